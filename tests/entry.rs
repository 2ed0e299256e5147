//! dhi-bootstrap's entrypoint steps (issue 15): secrets from files, the
//! umask, resource limits, volume ownership; and `--setsid` (issue 18). Real
//! processes: the command reads back what it got from its own /proc/self,
//! trees and mounts are real, capabilities are really taken away (setpriv).

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use common::*;

const BUSYBOX: &str = "/bin/busybox";
const SECRET: &str = "hunter2-Zq8-never-printed";

fn bootstrap(args: &[&str], script: &str) -> Command {
    let mut cmd = Command::new(applet("dhi-bootstrap"));
    cmd.args(args).args([BUSYBOX, "sh", "-c", script]).stdin(Stdio::null());
    cmd
}

fn run(cmd: &mut Command) -> Output {
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
    // Exec'd, and supervised (where debug says more: signals, reaping).
    for (args, env_form) in [(vec!["--file-env", "DB_PASSWORD"], false), (vec!["--init"], true)] {
        let mut cmd = bootstrap(&[&args[..], &["--user", "nobody"]].concat(), script);
        cmd.env("DB_PASSWORD_FILE", &path).env("SECRET_PATH", &path).env("HARDBOX_LOG", "debug");
        if env_form {
            cmd.env("FILE_ENV", "DB_PASSWORD");
        }
        let out = run(&mut cmd);
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
        let out = run(&mut cmd);
        assert_refused(&out, "dhi-bootstrap", needle);
        assert!(!text(&out).1.contains(SECRET), "the value leaked: {}", text(&out).1);
        assert!(!marker.exists(), "{needle}: the command ran");
    }
    // Unreadable even for root: as a user without CAP_DAC_OVERRIDE.
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]).arg(applet("dhi-bootstrap"));
    cmd.args(["--no-drop", "--file-env", "DB_PASSWORD", BUSYBOX, "sh", "-c", &touch]).env("DB_PASSWORD_FILE", &path);
    let out = run(&mut cmd);
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
    for mut cmd in [bootstrap(&flags, READ_BACK), by_env, both] {
        let out = run(&mut cmd);
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
        run(&mut cmd)
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
    let out = run(&mut cmd);
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

fn owner(path: &Path) -> (u32, u32) {
    let meta = std::fs::symlink_metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (meta.uid(), meta.gid())
}

const NOBODY: (u32, u32) = (65534, 65534);

/// A tree as a volume holds it, root's: a file, a subdirectory, a symlink
/// and a hard link to a file outside the tree, a dangling link.
fn tree(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let tree = dir.join("tree");
    let outside = dir.join("outside");
    std::fs::create_dir_all(tree.join("sub/deeper")).expect("mkdir");
    std::fs::write(tree.join("sub/deeper/file"), "x").expect("write");
    std::fs::write(tree.join("top"), "x").expect("write");
    std::fs::write(&outside, "not yours").expect("write");
    std::os::unix::fs::symlink(&outside, tree.join("sub/link-out")).expect("symlink");
    std::os::unix::fs::symlink("/nonexistent", tree.join("dangling")).expect("symlink");
    std::fs::hard_link(&outside, tree.join("sub/hard-link-out")).expect("link");
    (tree, outside)
}

#[test]
fn own_gives_the_tree_away_but_never_a_link_target() {
    if !require_root("own_gives_the_tree_away_but_never_a_link_target") {
        return;
    }
    let dir = TempDir::new("entry-own");
    let (tree, outside) = tree(dir.path());
    let tree_arg = tree.display().to_string();
    let mut cmd =
        bootstrap(&["--own", &tree_arg, "--user", "nobody"], "id -u; touch \"$TREE/sub/made-by-app\" && echo ok");
    cmd.env("TREE", &tree);
    let out = run(&mut cmd);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    for entry in ["", "top", "sub", "sub/deeper", "sub/deeper/file", "sub/link-out", "dangling"] {
        assert_eq!(owner(&tree.join(entry)), NOBODY, "{entry}");
    }
    assert_eq!(owner(&outside), (0, 0), "a link's target was given away");
    let line = format!("own {tree_arg:?} to 65534:65534: 7 changed, 0 already so, 1 hard-linked file(s) left alone\n");
    assert!(stderr.contains(&line), "{stderr}");
    assert_eq!(stdout, "65534\nok\n", "the app can write its volume");
    // The named owner, with --no-drop, through OWN_PATHS.
    let mut cmd = bootstrap(&["--no-drop"], "true");
    cmd.env("OWN_PATHS", format!("{tree_arg}:1234:4321; {}", dir.path().join("outside").display()));
    let out = run(&mut cmd);
    assert!(text(&out).1.contains("--no-drop name the owner"), "{}", text(&out).1);
    assert_eq!(owner(&tree), NOBODY, "a refused plan changed the tree");
    let mut cmd = bootstrap(&["--no-drop"], "true");
    cmd.env("OWN_PATHS", format!("{tree_arg}:1234:4321"));
    let out = run(&mut cmd);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    assert_eq!(owner(&tree.join("sub/link-out")), (1234, 4321));
    assert_eq!(owner(&outside), (0, 0));
    // PATH a file: the file alone.
    let single = dir.path().join("single");
    std::fs::write(&single, "x").expect("write");
    let out = run(&mut bootstrap(&["--own", &format!("{}:7:8", single.display()), "--user", "nobody"], "true"));
    assert_eq!((out.status.code(), owner(&single)), (Some(0), (7, 8)), "{}", text(&out).1);
    // PATH itself a link: refused, neither it nor its target changed.
    let link = dir.path().join("link-to-tree");
    std::os::unix::fs::symlink(&tree, &link).expect("symlink");
    let out = run(&mut bootstrap(&["--own", &link.display().to_string(), "--user", "nobody"], "true"));
    assert_refused(&out, "dhi-bootstrap", "is a symlink, which --own never follows");
    assert_eq!((owner(&link), owner(&tree)), ((0, 0), (1234, 4321)));
}

#[test]
fn own_stops_at_a_mount_inside_the_tree() {
    if !require_root("own_stops_at_a_mount_inside_the_tree")
        || !require_tool("own_stops_at_a_mount_inside_the_tree", "unshare")
    {
        return;
    }
    let dir = TempDir::new("entry-own-mount");
    let (tree, _) = tree(dir.path());
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir_all(elsewhere.join("inner")).expect("mkdir");
    std::fs::write(elsewhere.join("inner/file"), "x").expect("write");
    std::fs::create_dir(tree.join("mnt")).expect("mkdir");
    // The same filesystem bound in: only the mount id tells it apart.
    let script = format!(
        "mount --bind {elsewhere} {tree}/mnt && exec {db} --own {tree} --user nobody {BUSYBOX} true",
        elsewhere = elsewhere.display(),
        tree = tree.display(),
        db = applet("dhi-bootstrap").display()
    );
    let out = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", &script])
        .output()
        .expect("unshare");
    let stderr = text(&out).1;
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("1 other mount(s) left alone"), "{stderr}");
    for entry in ["", "inner", "inner/file"] {
        assert_eq!(owner(&elsewhere.join(entry)), (0, 0), "the bind mount's {entry:?} was given away");
    }
    // Under the mount, outside the namespace: the mount point itself was
    // not reached either (it was covered).
    assert_eq!(owner(&tree.join("mnt")), (0, 0));
    assert_eq!(owner(&tree.join("sub/deeper/file")), NOBODY);
}

#[test]
fn own_without_cap_chown_is_refused_and_changes_nothing() {
    if !require_root("own_without_cap_chown_is_refused_and_changes_nothing")
        || !require_tool("own_without_cap_chown_is_refused_and_changes_nothing", "setpriv")
    {
        return;
    }
    let dir = TempDir::new("entry-own-cap");
    let (tree, _) = tree(dir.path());
    let marker = dir.path().join("ran");
    let mut cmd = Command::new("setpriv");
    cmd.args(["--bounding-set=-chown", "--inh-caps=-chown", "--"]).arg(applet("dhi-bootstrap"));
    cmd.args(["--own", &tree.display().to_string(), "--user", "nobody", "--"]);
    cmd.args([BUSYBOX, "touch", &marker.display().to_string()]).stdin(Stdio::null());
    let out = run(&mut cmd);
    assert_refused(&out, "dhi-bootstrap", "needs CAP_CHOWN (docker run --cap-add CHOWN)");
    assert!(!marker.exists(), "the command ran");
    for entry in ["", "top", "sub", "sub/deeper/file", "sub/link-out"] {
        assert_eq!(owner(&tree.join(entry)), (0, 0), "{entry}");
    }
}

#[test]
fn a_second_start_on_ten_thousand_owned_files_changes_nothing_and_is_fast() {
    if !require_root("a_second_start_on_ten_thousand_owned_files_changes_nothing_and_is_fast") {
        return;
    }
    let dir = TempDir::new("entry-own-10k");
    let tree = dir.path().join("tree");
    for d in 0..100 {
        let sub = tree.join(format!("d{d:02}"));
        std::fs::create_dir_all(&sub).expect("mkdir");
        for f in 0..100 {
            std::fs::write(sub.join(format!("f{f:02}")), "").expect("write");
        }
    }
    let tree_arg = tree.display().to_string();
    let start = |label: &str| {
        let began = Instant::now();
        let out = run(&mut bootstrap(&["--own", &tree_arg, "--user", "nobody"], "true"));
        let took = began.elapsed();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
        eprintln!("own on 10,101 entries, {label}: {took:?}");
        (text(&out).1, took)
    };
    let (first, _) = start("first start");
    assert!(first.contains(": 10101 changed, 0 already so"), "{first}");
    let ctime = |path: &Path| {
        let meta = std::fs::metadata(path).expect("stat");
        (meta.ctime(), meta.ctime_nsec())
    };
    let before = ctime(&tree.join("d42/f42"));
    let (second, took) = start("second start");
    assert!(second.contains(": 0 changed, 10101 already so"), "{second}");
    assert_eq!(ctime(&tree.join("d42/f42")), before, "a file was written");
    assert!(took.as_millis() < 1000, "the second start took {took:?}");
}

/// The command's pid and its session, as `PID SID` (read by a child of the
/// shell, which shares its session).
const SESSION: &str = "echo $$ $(cut -d' ' -f6 /proc/self/stat)";

fn session(out: &Output) -> (String, String) {
    let (stdout, stderr) = text(out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let (pid, sid) = stdout.trim().split_once(' ').unwrap_or_else(|| panic!("{stdout:?}"));
    (pid.to_owned(), sid.to_owned())
}

#[test]
fn setsid_gives_the_command_a_session_of_its_own() {
    if !require_root("setsid_gives_the_command_a_session_of_its_own") {
        return;
    }
    let (pid, sid) = session(&run(&mut bootstrap(&["--user", "nobody"], SESSION)));
    assert_ne!(pid, sid, "without --setsid the caller's session is kept");
    for mode in [&["--exec"][..], &["--init"], &["--init", "--group-signals"]] {
        let (pid, sid) = session(&run(&mut bootstrap(&[mode, &["--setsid", "--user", "nobody"]].concat(), SESSION)));
        assert_eq!(pid, sid, "{mode:?} --setsid");
    }
    // As a process group leader setsid() is refused: the command then runs
    // as a child in a new session, and its status comes back.
    use std::os::unix::process::CommandExt;
    let mut cmd = bootstrap(&["--setsid", "--user", "nobody"], SESSION);
    let (pid, sid) = session(&run(cmd.process_group(0)));
    assert_eq!(pid, sid, "--setsid as a group leader");
    let mut cmd = bootstrap(&["--setsid", "--no-drop"], "exit 7");
    let out = run(cmd.process_group(0));
    assert_eq!(out.status.code(), Some(7), "{}", text(&out).1);
    // As PID 1 of a PID namespace.
    let mut cmd = Command::new("unshare");
    cmd.args(["--pid", "--fork", "--mount-proc", "--"]).arg(applet("dhi-bootstrap"));
    cmd.args(["--setsid", "--user", "nobody", BUSYBOX, "sh", "-c", SESSION]).stdin(Stdio::null());
    let (pid, sid) = session(&run(&mut cmd));
    assert_eq!((pid.as_str(), sid.as_str()), ("2", "2"), "as PID 1");
}

#[test]
fn no_drop_says_that_it_wins_over_drop_to_user() {
    if !require_root("no_drop_says_that_it_wins_over_drop_to_user") {
        return;
    }
    let mut cmd = bootstrap(&["--no-drop"], "id -u");
    let out = run(cmd.env("DROP_TO_USER", "node"));
    assert_eq!(text(&out).0, "0\n");
    assert!(text(&out).1.starts_with("dhi-bootstrap: --no-drop: DROP_TO_USER=node ignored\n"), "{}", text(&out).1);
    let mut cmd = bootstrap(&["--no-drop"], "true");
    let out = run(cmd.env("DROP_TO_USER", "x\ndhi-bootstrap: forged"));
    assert!(text(&out).1.contains("DROP_TO_USER=\"x\\ndhi-bootstrap: forged\" ignored\n"), "{}", text(&out).1);
    assert_eq!(text(&out).1.lines().count(), 2, "{}", text(&out).1);
    let out = run(&mut bootstrap(&["--no-drop"], "true"));
    assert!(!text(&out).1.contains("ignored"), "{}", text(&out).1);
}

#[test]
fn own_refuses_a_tree_deeper_than_its_bound_and_the_command_never_runs() {
    if !require_root("own_refuses_a_tree_deeper_than_its_bound_and_the_command_never_runs") {
        return;
    }
    let dir = TempDir::new("entry-own-deep");
    let mut deep = dir.path().join("tree");
    for _ in 0..260 {
        deep.push("d");
    }
    std::fs::create_dir_all(&deep).expect("mkdir");
    let marker = dir.path().join("ran");
    let tree = dir.path().join("tree").display().to_string();
    let out = run(&mut bootstrap(&["--own", &tree, "--user", "nobody"], &format!("touch {}", marker.display())));
    assert_refused(&out, "dhi-bootstrap", "is deeper than 256 levels");
    assert!(!marker.exists(), "the command ran");
}
