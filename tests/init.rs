//! dhi-bootstrap as an init at stop and exit: the working directory it lets
//! go of, `--term-delay`, `--map-exit` and the leftover processes of
//! `--stop-grace`. hardbox is PID 1 of a real PID namespace (`unshare --pid
//! --fork --mount-proc`); the commands are busybox shells that record what
//! they saw, and when, in files.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

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

/// The lines of a file the command writes, none while it does not exist.
fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path).unwrap_or_default().lines().map(String::from).collect()
}

/// Polls until `path` has `n` lines; returns when that was seen.
fn seen_lines(path: &Path, n: usize) -> Instant {
    wait_until_10s(&format!("{n} lines in {}", path.display()), || (lines(path).len() >= n).then(Instant::now))
}

/// A shell loop that notes each TERM, INT and USR1 it gets in `log`, one
/// line each, and exits 0 on HUP. It sleeps in short steps: busybox sh runs
/// a trap only once its foreground command is done (and two pending ones in
/// its own order).
fn noting_app(dir: &Path) -> (String, PathBuf, PathBuf) {
    let (ready, log) = (dir.join("ready"), dir.join("log"));
    let script = format!(
        "trap 'echo TERM >> {log}' TERM; trap 'echo INT >> {log}' INT; trap 'echo USR1 >> {log}' USR1; trap 'exit 0' HUP; \
         touch {ready}; while :; do {BUSYBOX} sleep 0.02; done",
        log = log.display(),
        ready = ready.display()
    );
    (script, ready, log)
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

#[test]
fn term_delay_holds_the_first_term_and_nothing_else() {
    if !require_root("term_delay_holds_the_first_term_and_nothing_else") {
        return;
    }
    let dir = TempDir::new("init-delay");
    let (script, ready, log) = noting_app(dir.path());
    let unshare = spawn(pid1(&sh(&["--term-delay", "2s"], &script)));
    let (hardbox, _) = pids_under_unshare(&unshare, &ready);
    let sent = Instant::now();
    kill(libc::SIGTERM, hardbox);
    std::thread::sleep(Duration::from_millis(300));
    let usr1 = Instant::now();
    kill(libc::SIGUSR1, hardbox);
    let usr1_seen = seen_lines(&log, 1);
    assert!(usr1_seen - usr1 < Duration::from_millis(200), "USR1 goes on at once: {:?}", usr1_seen - usr1);
    assert_eq!(lines(&log), ["USR1"], "TERM is still held");
    let term_seen = seen_lines(&log, 2);
    let held = term_seen - sent;
    assert!(
        held >= Duration::from_millis(1800) && held <= Duration::from_millis(2200),
        "TERM reaches the app 2s (+-200ms) after it was sent: {held:?}"
    );
    assert_eq!(lines(&log), ["USR1", "TERM"]);
    kill(libc::SIGHUP, hardbox);
    let out = finish(unshare);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    assert!(text(&out).1.contains("SIGTERM: forwarding it in 2s (--term-delay)"), "{:?}", text(&out));
}

#[test]
fn a_second_term_or_an_int_forwards_the_held_term_at_once() {
    if !require_root("a_second_term_or_an_int_forwards_the_held_term_at_once") {
        return;
    }
    for (second, want) in [(libc::SIGTERM, &["TERM"][..]), (libc::SIGINT, &["INT", "TERM"][..])] {
        let dir = TempDir::new("init-second");
        let (script, ready, log) = noting_app(dir.path());
        // From the environment this time: the flag's variable.
        let mut cmd = pid1(&sh(&[], &script));
        cmd.env("TERM_DELAY", "5s");
        let unshare = spawn(cmd);
        let (hardbox, _) = pids_under_unshare(&unshare, &ready);
        kill(libc::SIGTERM, hardbox);
        std::thread::sleep(Duration::from_millis(300));
        assert!(lines(&log).is_empty(), "the first TERM is held");
        let sent = Instant::now();
        kill(second, hardbox);
        let seen = seen_lines(&log, want.len());
        assert!(seen - sent < Duration::from_millis(200), "signal {second}: at once, not after 5s: {:?}", seen - sent);
        let mut got = lines(&log);
        got.sort();
        assert_eq!(got, want, "signal {second}");
        kill(libc::SIGHUP, hardbox);
        let out = finish(unshare);
        assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    }
}

#[test]
fn map_exit_turns_a_death_by_term_into_0() {
    if !require_root("map_exit_turns_a_death_by_term_into_0") {
        return;
    }
    for (options, want) in [(&["--map-exit", "143=0"][..], 0), (&["--map-exit", "1=0,15=0"][..], 143)] {
        let dir = TempDir::new("init-map");
        let ready = dir.path().join("ready");
        let script = format!("touch {}; exec {BUSYBOX} sleep 30", ready.display());
        let unshare = spawn(pid1(&sh(options, &script)));
        let (hardbox, _) = pids_under_unshare(&unshare, &ready);
        kill(libc::SIGTERM, hardbox);
        let out = finish(unshare);
        assert_eq!(out.status.code(), Some(want), "{options:?}: {:?}", text(&out));
        assert_eq!(text(&out).1.contains("status 143 leaves as 0"), want == 0, "{:?}", text(&out));
    }
    let out = pid1(&sh(&[], "exit 3")).env("MAP_EXIT", "3=7").output().expect("run dhi-bootstrap");
    assert_eq!(out.status.code(), Some(7), "MAP_EXIT: {:?}", text(&out));
}

/// An app that starts workers, waits until each is ready, and exits 3.
/// `polite`: a worker that, on TERM, takes 300 ms to finish, then notes it
/// in `done`; `stubborn`: one that ignores TERM. Returns the script and the
/// file the app touches as it exits.
fn app_with_workers(dir: &Path, polite: bool, stubborn: bool) -> (String, PathBuf) {
    let d = dir.display();
    let mut script = String::new();
    let mut readies = Vec::new();
    if polite {
        script += &format!(
            "{BUSYBOX} sh -c 'trap \"{BUSYBOX} sleep 0.3; echo done >> {d}/done; exit 0\" TERM; \
             touch {d}/polite; while :; do {BUSYBOX} sleep 0.02; done' & "
        );
        readies.push(format!("{d}/polite"));
    }
    if stubborn {
        script +=
            &format!("{BUSYBOX} sh -c 'trap \"\" TERM; touch {d}/stubborn; while :; do {BUSYBOX} sleep 0.02; done' & ");
        readies.push(format!("{d}/stubborn"));
    }
    for ready in readies {
        script += &format!("while [ ! -e {ready} ]; do {BUSYBOX} sleep 0.01; done; ");
    }
    script += &format!("touch {d}/exited; exit 3");
    (script, dir.join("exited"))
}

/// Runs the app under dhi-bootstrap as PID 1: (its output, the time from
/// the app's exit to dhi-bootstrap's).
fn run_with_workers(options: &[&str], script: &str, exited: &Path) -> (Output, Duration) {
    let unshare = spawn(pid1(&sh(options, script)));
    let app_exit = wait_until_10s("the app's exit", || exited.exists().then(Instant::now));
    let out = finish(unshare);
    (out, app_exit.elapsed())
}

#[test]
fn leftovers_get_term_then_kill_at_the_grace_and_the_status_is_the_apps() {
    if !require_root("leftovers_get_term_then_kill_at_the_grace_and_the_status_is_the_apps") {
        return;
    }
    let dir = TempDir::new("init-left");
    let (script, exited) = app_with_workers(dir.path(), true, true);
    let (out, took) = run_with_workers(&["--stop-grace", "1500ms"], &script, &exited);
    assert_eq!(out.status.code(), Some(3), "the app's status: {:?}", text(&out));
    assert_eq!(lines(&dir.path().join("done")), ["done"], "the polite worker was waited for");
    assert!(took >= Duration::from_millis(1400) && took < Duration::from_secs(4), "killed at the grace: {took:?}");
    let (_, err) = text(&out);
    assert!(err.contains("SIGTERM to the processes left, SIGKILL after 1s 500ms"), "{err}");
    assert!(err.contains("SIGKILL to the processes still left after 1s 500ms"), "{err}");
}

#[test]
fn leftovers_that_go_on_term_end_the_wait_early_and_grace_0_exits_at_once() {
    if !require_root("leftovers_that_go_on_term_end_the_wait_early_and_grace_0_exits_at_once") {
        return;
    }
    let dir = TempDir::new("init-polite");
    let (script, exited) = app_with_workers(dir.path(), true, false);
    // The default grace, 5s: the worker is done long before.
    let (out, took) = run_with_workers(&[], &script, &exited);
    assert_eq!(out.status.code(), Some(3), "{:?}", text(&out));
    assert_eq!(lines(&dir.path().join("done")), ["done"], "the worker finished");
    assert!(took >= Duration::from_millis(250) && took < Duration::from_secs(3), "waited for it only: {took:?}");
    assert!(!text(&out).1.contains("SIGKILL to the processes still left"), "{:?}", text(&out));

    let dir = TempDir::new("init-grace0");
    let (script, exited) = app_with_workers(dir.path(), true, true);
    let (out, took) = run_with_workers(&["--stop-grace", "0"], &script, &exited);
    assert_eq!(out.status.code(), Some(3), "{:?}", text(&out));
    assert!(took < Duration::from_millis(250), "exits at once: {took:?}");
    assert!(lines(&dir.path().join("done")).is_empty(), "no TERM, no time: the teardown killed the worker");
}

/// A process in a PID namespace of its own: (unshare, the process), both
/// killed on drop.
struct PidnsTarget(Child, u32);

impl PidnsTarget {
    fn new() -> PidnsTarget {
        let unshare = Command::new("unshare")
            .args(["--pid", "--fork", "--", BUSYBOX, "sleep", "120"])
            .spawn()
            .expect("spawn unshare");
        let pid = wait_until_10s("the sleeping target", || children(unshare.id()).first().copied());
        PidnsTarget(unshare, pid)
    }
}

impl Drop for PidnsTarget {
    fn drop(&mut self) {
        kill(libc::SIGKILL, self.1);
        let _ = self.0.wait();
    }
}

/// nsenter-lite forks to enter a PID namespace and waits for the command, as
/// nsenter does; a command killed by a signal kills it with that signal too
/// (signal-hook's emulate_default_handler), one that exits gives its status.
#[test]
fn nsenter_lite_dies_of_the_signal_its_command_died_of() {
    use std::os::unix::process::ExitStatusExt;
    if !require_root("nsenter_lite_dies_of_the_signal_its_command_died_of") {
        return;
    }
    let target = PidnsTarget::new();
    let run = |script: &str| {
        Command::new(applet("nsenter-lite"))
            .args(["-t", &target.1.to_string(), "-p", "--", BUSYBOX, "sh", "-c", script])
            .stdin(Stdio::null())
            .output()
            .expect("run nsenter-lite")
    };
    for sig in [libc::SIGTERM, libc::SIGQUIT, libc::SIGKILL] {
        // The signal goes to a sleep: busybox sh itself ignores SIGQUIT.
        let out = run(&format!("{BUSYBOX} sh -c '{BUSYBOX} sleep 0.1; kill -{sig} $PPID' & exec {BUSYBOX} sleep 10"));
        assert_eq!((out.status.signal(), out.status.code()), (Some(sig), None), "{sig}: {:?}", text(&out));
        assert!(!out.status.core_dumped(), "no core of hardbox's own");
    }
    let out = run("exit 143");
    assert_eq!((out.status.signal(), out.status.code()), (None, Some(143)), "an exit stays an exit: {:?}", text(&out));
}

/// The init waits on exactly the signals it blocked (tini's contract): a
/// SIGABRT sent to one that is not PID 1 ends it, as it ends any process,
/// instead of being taken and dropped by the wait.
#[test]
fn sigabrt_ends_an_init_that_is_not_pid_1() {
    use std::os::unix::process::ExitStatusExt;
    if !require_root("sigabrt_ends_an_init_that_is_not_pid_1") {
        return;
    }
    let dir = TempDir::new("init-abrt");
    let ready = dir.path().join("ready");
    let script = format!("touch {}; exec {BUSYBOX} sleep 30", ready.display());
    let mut cmd = Command::new(applet("dhi-bootstrap"));
    cmd.args(["--init", "--no-drop"]).args(sh(&[], &script));
    let init = spawn(cmd);
    wait_until_10s("the command's ready file", || ready.exists().then_some(()));
    let command = wait_until_10s("the command", || children(init.id()).first().copied());
    kill(libc::SIGABRT, init.id());
    // The command holds the output pipes open: it goes first, once the
    // init has ended (or the wait for that has failed the test).
    let zombie = || std::fs::read_to_string(format!("/proc/{}/stat", init.id())).is_ok_and(|s| s.contains(") Z "));
    wait_until("the init's end", Duration::from_secs(5), || zombie().then_some(()));
    kill(libc::SIGKILL, command);
    let out = finish(init);
    assert_eq!(out.status.signal(), Some(libc::SIGABRT), "{:?}", text(&out));
}
