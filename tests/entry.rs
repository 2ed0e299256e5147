//! dhi-bootstrap's entrypoint steps (issue 15): secrets from files, the
//! umask, resource limits, volume ownership; and `--setsid` (issue 18). Real
//! processes: the command reads back what it got from its own /proc/self,
//! trees and mounts are real, capabilities are really taken away (setpriv).

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::*;

const BUSYBOX: &str = "/bin/busybox";
const SECRET: &str = "hunter2-Zq8-never-printed";

fn bootstrap(args: &[&str], script: &str) -> Command {
    let mut cmd = Command::new(applet("dhi-bootstrap"));
    cmd.args(args).args([BUSYBOX, "sh", "-c", script]).stdin(Stdio::null());
    cmd
}

fn run(mut cmd: Command) -> Output {
    cmd.output().expect("run dhi-bootstrap")
}

/// A secret as a container engine mounts one: root's, mode 0400.
fn secret_file(dir: &Path, content: &str) -> String {
    let path = dir.join("db_password");
    std::fs::write(&path, content).expect("write secret");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).expect("chmod secret");
    path.display().to_string()
}

#[test]
fn a_root_only_secret_reaches_a_nonroot_app_and_its_file_variable_is_gone() {
    if !require_root("a_root_only_secret_reaches_a_nonroot_app_and_its_file_variable_is_gone") {
        return;
    }
    let dir = TempDir::new("entry-secret");
    let path = secret_file(dir.path(), &format!("{SECRET}\n\n"));
    let script = "id -u; echo \"[$DB_PASSWORD]\"; env | grep -c '^DB_PASSWORD_FILE=' || true; \
                  cat \"$SECRET_PATH\" 2>/dev/null || echo unreadable";
    for (args, env_form) in [(vec!["--file-env", "DB_PASSWORD"], false), (vec![], true)] {
        let mut cmd = bootstrap(&[&args[..], &["--user", "nobody"]].concat(), script);
        cmd.env("DB_PASSWORD_FILE", &path).env("SECRET_PATH", &path).env("HARDBOX_LOG", "debug");
        if env_form {
            cmd.env("FILE_ENV", "DB_PASSWORD");
        }
        let out = run(cmd);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert_eq!(stdout, format!("65534\n[{SECRET}]\n0\nunreadable\n"), "env form {env_form}; {stderr}");
        assert!(stderr.contains(&format!("dhi-bootstrap: file-env: DB_PASSWORD from {path:?}\n")), "{stderr}");
        assert!(!stderr.contains(SECRET), "the value leaked: {stderr}");
    }
}

#[test]
fn refused_secrets_say_why_without_the_value() {
    if !require_root("refused_secrets_say_why_without_the_value") {
        return;
    }
    let dir = TempDir::new("entry-secret-bad");
    let path = secret_file(dir.path(), SECRET);
    let nul = dir.path().join("nul");
    std::fs::write(&nul, format!("{SECRET}\0")).expect("write");
    let big = dir.path().join("big");
    std::fs::write(&big, SECRET.repeat(1 << 16)).expect("write");
    let marker = dir.path().join("ran");
    let touch = format!("touch {}", marker.display());
    let missing = dir.path().join("missing").display().to_string();
    let rows: Vec<(Vec<(&str, String)>, &str)> = vec![
        (
            vec![("DB_PASSWORD", SECRET.into()), ("DB_PASSWORD_FILE", path.clone())],
            "both DB_PASSWORD and DB_PASSWORD_FILE",
        ),
        (vec![("DB_PASSWORD_FILE", missing.clone())], "no such file or directory"),
        (vec![("DB_PASSWORD_FILE", nul.display().to_string())], "NUL byte"),
        (vec![("DB_PASSWORD_FILE", big.display().to_string())], "larger than 1048576 bytes"),
        // The secret is read, then the plan fails later: still no value.
        (vec![("DB_PASSWORD_FILE", path.clone()), ("DROP_TO_USER", "nosuchuser".into())], "nosuchuser"),
    ];
    for (vars, needle) in rows {
        let mut cmd = bootstrap(&["--file-env", "DB_PASSWORD"], &touch);
        cmd.env("HARDBOX_LOG", "debug").envs(vars.iter().map(|(k, v)| (k, v)));
        let out = run(cmd);
        assert_refused(&out, "dhi-bootstrap", needle);
        assert!(!text(&out).1.contains(SECRET), "the value leaked: {}", text(&out).1);
        assert!(!marker.exists(), "{needle}: the command ran");
    }
    // Unreadable even for root: as a user without CAP_DAC_OVERRIDE.
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]).arg(applet("dhi-bootstrap"));
    cmd.args(["--no-drop", "--file-env", "DB_PASSWORD", BUSYBOX, "sh", "-c", &touch]).env("DB_PASSWORD_FILE", &path);
    let out = run(cmd);
    assert_refused(&out, "dhi-bootstrap", "permission denied (hardbox reads it before the drop");
    assert!(!marker.exists(), "the command ran");
}

/// The lines of the command's /proc/self/limits for these limits, as
/// `NAME SOFT HARD`.
fn limits_of(stdout: &str, names: &[&str]) -> Vec<String> {
    stdout
        .lines()
        .filter(|line| names.iter().any(|name| line.starts_with(name)))
        .map(|line| line.split("  ").filter(|f| !f.is_empty()).take(3).map(str::trim).collect::<Vec<_>>().join("|"))
        .collect()
}

const READ_BACK: &str = "grep Umask /proc/self/status; cat /proc/self/limits";

#[test]
fn umask_and_limits_read_back_from_the_command_itself() {
    if !require_root("umask_and_limits_read_back_from_the_command_itself") {
        return;
    }
    let names = ["Max open files", "Max core file size", "Max processes", "Max stack size"];
    let flags = ["--umask", "0027", "--rlimit", "nofile=512:1024,core=0", "--rlimit", "nproc=100:", "--user", "nobody"];
    let mut by_env = bootstrap(&["--user", "nobody"], READ_BACK);
    by_env.env("UMASK", "0027").env("RLIMITS", "nofile=512:1024,core=0,nproc=100:");
    // The flag wins over the variable.
    let mut both = bootstrap(&flags, READ_BACK);
    both.env("UMASK", "0777").env("RLIMITS", "nofile=1");
    for cmd in [bootstrap(&flags, READ_BACK), by_env, both] {
        let out = run(cmd);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert!(stdout.starts_with("Umask:\t0027\n"), "{stdout}");
        let got = limits_of(&stdout, &names);
        assert!(got.contains(&"Max open files|512|1024".to_string()), "{got:?}");
        assert!(got.contains(&"Max core file size|0|0".to_string()), "{got:?}");
        assert!(got.iter().any(|l| l.starts_with("Max processes|100|")), "{got:?}");
        assert!(stderr.contains("dhi-bootstrap: umask 0027\n"), "{stderr}");
        assert!(stderr.contains("dhi-bootstrap: rlimit nofile=512:1024 core=0:0 nproc=100:"), "{stderr}");
    }
}

#[test]
fn raising_a_hard_limit_needs_cap_sys_resource() {
    if !require_root("raising_a_hard_limit_needs_cap_sys_resource")
        || !require_tool("raising_a_hard_limit_needs_cap_sys_resource", "setpriv")
        || !require_tool("raising_a_hard_limit_needs_cap_sys_resource", "prlimit")
    {
        return;
    }
    let dir = TempDir::new("entry-rlimit");
    let marker = dir.path().join("ran");
    let script = format!("touch {}; {READ_BACK}", marker.display());
    let under = |drop_cap: bool| {
        let mut cmd = Command::new("prlimit");
        cmd.args(["--nofile=256:512", "--"]);
        if drop_cap {
            cmd.args(["setpriv", "--bounding-set=-sys_resource", "--inh-caps=-sys_resource", "--"]);
        }
        cmd.arg(applet("dhi-bootstrap")).args(["--no-drop", "--rlimit", "nofile=1024", BUSYBOX, "sh", "-c", &script]);
        cmd.stdin(Stdio::null());
        run(cmd)
    };
    let out = under(true);
    assert_refused(
        &out,
        "dhi-bootstrap",
        "--rlimit nofile=1024:1024: raises the hard limit from 512 without CAP_SYS_RESOURCE",
    );
    assert!(text(&out).1.contains("docker run --ulimit nofile=1024:1024"), "{}", text(&out).1);
    assert!(!marker.exists(), "the command ran");
    // Lowering needs no capability.
    let mut cmd = Command::new("setpriv");
    cmd.args(["--bounding-set=-sys_resource", "--inh-caps=-sys_resource", "--"]).arg(applet("dhi-bootstrap"));
    cmd.args(["--no-drop", "--rlimit", "nofile=100:200", BUSYBOX, "sh", "-c", READ_BACK]).stdin(Stdio::null());
    let out = run(cmd);
    assert!(limits_of(&text(&out).0, &["Max open files"]) == ["Max open files|100|200"], "{:?}", text(&out));
    // With it, the same raise is made (where this machine gives it to root).
    if !has_cap(24) {
        eprintln!("SKIPPED the raise with CAP_SYS_RESOURCE: this machine's root lacks it");
        return;
    }
    let out = under(false);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    assert_eq!(limits_of(&text(&out).0, &["Max open files"]), ["Max open files|1024|1024"]);
}

/// Whether this test process holds the capability numbered `cap`.
fn has_cap(cap: u32) -> bool {
    let status = std::fs::read_to_string("/proc/self/status").expect("read status");
    let hex = status.lines().find_map(|line| line.strip_prefix("CapEff:")).expect("CapEff").trim();
    u64::from_str_radix(hex, 16).expect("CapEff hex") & (1 << cap) != 0
}
