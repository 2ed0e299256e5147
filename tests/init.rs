//! dhi-bootstrap as an init at stop and exit: the working directory it lets
//! go of, `--term-delay`, `--map-exit` and the leftover processes of
//! `--stop-grace`. hardbox is PID 1 of a real PID namespace (`unshare --pid
//! --fork --mount-proc`); the commands are busybox shells that record what
//! they saw, and when, in files.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use common::*;

const BUSYBOX: &str = "/bin/busybox";

/// dhi-bootstrap as PID 1 of a new PID namespace with its own /proc.
fn pid1(args: &[&str]) -> Command {
    let mut cmd = Command::new("unshare");
    cmd.args(["--pid", "--fork", "--mount-proc", "--"]).arg(applet("dhi-bootstrap")).arg("--no-drop").args(args);
    cmd
}

fn spawn(mut cmd: Command) -> Child {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn dhi-bootstrap")
}

fn finish(child: Child) -> Output {
    child.wait_with_output().expect("wait for dhi-bootstrap")
}

/// The options, then a busybox shell line as the command.
fn sh<'a>(options: &[&'a str], script: &'a str) -> Vec<&'a str> {
    options.iter().copied().chain([BUSYBOX, "sh", "-c", script]).collect()
}

fn wait_until_10s<T>(what: &str, probe: impl FnMut() -> Option<T>) -> T {
    wait_until(what, Duration::from_secs(10), probe)
}

/// Waits for the command's ready file; returns (hardbox's pid, the
/// command's pid) as the host sees them.
fn pids_under_unshare(unshare: &Child, ready: &Path) -> (u32, u32) {
    wait_until_10s("the command's ready file", || ready.exists().then_some(()));
    let hardbox = wait_until_10s("hardbox under unshare", || match children(unshare.id())[..] {
        [only] => Some(only),
        _ => None,
    });
    let command = wait_until_10s("the command", || children(hardbox).first().copied());
    (hardbox, command)
}

fn kill(sig: i32, pid: u32) {
    // SAFETY: kill has no memory effects; the pid is one this test started.
    assert_eq!(unsafe { libc::kill(pid as i32, sig) }, 0, "kill -{sig} {pid}");
}

/// Where a process's working directory is.
fn cwd(pid: u32) -> PathBuf {
    std::fs::read_link(format!("/proc/{pid}/cwd")).expect("read a cwd link")
}

#[test]
fn the_init_moves_to_root_and_the_command_keeps_its_directory() {
    if !require_root("the_init_moves_to_root_and_the_command_keeps_its_directory") {
        return;
    }
    let dir = TempDir::new("init-cwd");
    let ready = dir.path().join("ready");
    let script = format!("touch {}; exec {BUSYBOX} sleep 30", ready.display());
    let mut cmd = pid1(&sh(&[], &script));
    cmd.current_dir(dir.path());
    let unshare = spawn(cmd);
    let (hardbox, command) = pids_under_unshare(&unshare, &ready);
    assert_eq!(cwd(hardbox), Path::new("/"), "the init lets go of the directory");
    assert_eq!(cwd(command), dir.path().canonicalize().unwrap(), "the command keeps it");
    kill(libc::SIGKILL, command);
    let out = finish(unshare);
    assert_eq!(out.status.code(), Some(137), "{:?}", text(&out));
}
