//! dhi-bootstrap as the container entrypoint: hardbox as PID 1 of a real PID
//! namespace (`unshare --pid --fork --mount-proc`), probes that record what
//! they got, routes in network namespaces the tests make, the privilege drop
//! read back from /proc/self/status of the command itself.

mod common;

use std::collections::BTreeSet;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;

const BUSYBOX: &str = "/bin/busybox";

/// dhi-bootstrap as PID 1 of a new PID namespace with its own /proc.
fn pid1(args: &[&str]) -> Command {
    let mut cmd = Command::new("unshare");
    cmd.args(["--pid", "--fork", "--mount-proc", "--"]).arg(applet("dhi-bootstrap")).args(args);
    cmd
}

/// dhi-bootstrap run directly: not PID 1.
fn direct(args: &[&str]) -> Command {
    let mut cmd = Command::new(applet("dhi-bootstrap"));
    cmd.args(args);
    cmd
}

fn output(mut cmd: Command) -> Output {
    cmd.stdin(Stdio::null()).output().expect("run dhi-bootstrap")
}

fn spawn(mut cmd: Command) -> Child {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn dhi-bootstrap")
}

/// A busybox shell line as the command.
fn sh(script: &str) -> Vec<String> {
    vec![BUSYBOX.into(), "sh".into(), "-c".into(), script.into()]
}

fn with<'a>(options: &[&'a str], command: &'a [String]) -> Vec<&'a str> {
    options.iter().copied().chain(command.iter().map(String::as_str)).collect()
}

/// The children of `pid`, found through /proc (the `children` file is not
/// in every kernel).
fn children(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("read /proc").flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        let ppid = stat.rsplit_once(") ").and_then(|(_, rest)| rest.split(' ').nth(1)?.parse::<u32>().ok());
        if ppid == Some(pid) {
            found.push(child);
        }
    }
    found
}

fn wait_until<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The only child of `pid`, once it has one.
fn only_child(pid: u32) -> u32 {
    wait_until(&format!("a child of {pid}"), || match children(pid)[..] {
        [child] => Some(child),
        _ => None,
    })
}

/// Waits for a probe's ready file and returns (hardbox's pid, the command's pid)
/// as the host sees them.
fn pids_under_unshare(unshare: &Child, ready: &Path) -> (u32, u32) {
    wait_until("the probe's ready file", || ready.exists().then_some(()));
    let hardbox = only_child(unshare.id());
    let command = wait_until("the command", || children(hardbox).first().copied());
    (hardbox, command)
}

fn kill(sig: i32, pid: u32) {
    let out = Command::new(BUSYBOX).args(["kill", &format!("-{sig}"), &pid.to_string()]).output().expect("run kill");
    assert!(out.status.success(), "kill -{sig} {pid}: {}", String::from_utf8_lossy(&out.stderr));
}

fn finish(child: Child) -> Output {
    child.wait_with_output().expect("wait for dhi-bootstrap")
}

fn code(out: &Output) -> Option<i32> {
    out.status.code()
}

#[test]
fn exit_statuses_pass_through_as_pid_1() {
    if !require_root("exit_statuses_pass_through_as_pid_1") {
        return;
    }
    for status in [0, 1, 2, 32, 64, 127, 254, 255] {
        let out = output(pid1(&with(&["--no-drop"], &sh(&format!("exit {status}")))));
        assert_eq!(code(&out), Some(status), "exit {status}: {:?}", text(&out));
    }
}

#[test]
fn death_by_signal_is_128_plus_n() {
    if !require_root("death_by_signal_is_128_plus_n") {
        return;
    }
    // Sent to hardbox and forwarded, and sent straight to the command.
    for (sig, to_command) in [(15, false), (1, false), (3, false), (2, false), (15, true), (9, true)] {
        let dir = TempDir::new("dhi-sig");
        let ready = dir.path().join("ready");
        let script = format!("touch {}; exec {BUSYBOX} sleep 30", ready.display());
        let unshare = spawn(pid1(&with(&["--no-drop"], &sh(&script))));
        let (hardbox, command) = pids_under_unshare(&unshare, &ready);
        kill(sig, if to_command { command } else { hardbox });
        let out = finish(unshare);
        assert_eq!(code(&out), Some(128 + sig), "signal {sig} (to command: {to_command}): {:?}", text(&out));
    }
}

/// Every catchable signal from 1 to 31 but KILL, STOP, CHLD and the fault
/// signals, and two real-time ones.
const FORWARDED: [i32; 23] = [1, 2, 3, 10, 12, 13, 14, 15, 16, 18, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 40, 50];

#[test]
fn every_catchable_signal_reaches_the_command() {
    if !require_root("every_catchable_signal_reaches_the_command") {
        return;
    }
    let dir = TempDir::new("dhi-fwd");
    let (ready, got) = (dir.path().join("ready"), dir.path().join("got"));
    let mut script = String::new();
    for sig in FORWARDED {
        script.push_str(&format!("trap 'echo {sig} >> {}' {sig}; ", got.display()));
    }
    script.push_str(&format!("touch {}; while :; do sleep 30 & wait $!; done", ready.display()));
    let unshare = spawn(pid1(&with(&["--no-drop"], &sh(&script))));
    let (hardbox, command) = pids_under_unshare(&unshare, &ready);
    let mut want = String::new();
    for sig in FORWARDED {
        kill(sig, hardbox);
        want.push_str(&format!("{sig}\n"));
        wait_until(&format!("signal {sig} to reach the command"), || {
            (std::fs::read_to_string(&got).unwrap_or_default() == want).then_some(())
        });
    }
    kill(9, command);
    let out = finish(unshare);
    assert_eq!(code(&out), Some(137), "{:?}", text(&out));
}

#[test]
fn group_signals_reach_the_whole_process_group() {
    if !require_root("group_signals_reach_the_whole_process_group") {
        return;
    }
    for group in [true, false] {
        let dir = TempDir::new("dhi-group");
        let (ready, got) = (dir.path().join("ready"), dir.path().join("got"));
        let script = format!(
            "trap 'echo child >> {got}' TERM; \
             ( trap 'echo grandchild >> {got}; exit 0' TERM; touch {ready}; while :; do sleep 30 & wait $!; done ) & \
             wait; wait",
            got = got.display(),
            ready = ready.display()
        );
        let options: &[&str] = if group { &["--no-drop", "--group-signals"] } else { &["--no-drop"] };
        let unshare = spawn(pid1(&with(options, &sh(&script))));
        let (hardbox, command) = pids_under_unshare(&unshare, &ready);
        kill(15, hardbox);
        wait_until("the child's trap", || {
            std::fs::read_to_string(&got).unwrap_or_default().contains("child").then_some(())
        });
        if group {
            let out = finish(unshare);
            assert_eq!(code(&out), Some(0), "{:?}", text(&out));
            let lines: BTreeSet<String> = std::fs::read_to_string(&got).unwrap().lines().map(String::from).collect();
            assert_eq!(lines, BTreeSet::from(["child".into(), "grandchild".into()]));
        } else {
            std::thread::sleep(Duration::from_millis(300));
            assert_eq!(std::fs::read_to_string(&got).unwrap(), "child\n", "only the child gets it");
            kill(9, command);
            assert_eq!(code(&finish(unshare)), Some(137));
        }
    }
}

#[test]
fn a_hundred_orphans_are_reaped() {
    if !require_root("a_hundred_orphans_are_reaped") {
        return;
    }
    // The probe orphans 100 sleeps (they come to PID 1), counts them, then
    // waits until no zombie and no sleep is left in the namespace.
    let script = "i=0; while [ $i -lt 100 ]; do ( sleep 0.3 & ); i=$((i+1)); done; \
                  before=$(cat /proc/[0-9]*/comm 2>/dev/null | grep -c '^sleep$'); \
                  n=0; while [ $n -lt 100 ]; do \
                    z=$(cat /proc/[0-9]*/stat 2>/dev/null | grep -c ') Z '); \
                    s=$(cat /proc/[0-9]*/comm 2>/dev/null | grep -c '^sleep$'); \
                    [ $z$s = 00 ] && break; sleep 0.05; n=$((n+1)); done; \
                  echo $before $z $s";
    let out = output(pid1(&with(&["--no-drop"], &sh(script))));
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), Some(0), "{stderr}");
    let counts: Vec<u32> = stdout.split_whitespace().map(|n| n.parse().unwrap()).collect();
    assert_eq!(counts.len(), 3, "{stdout}");
    assert!(counts[0] >= 90, "the orphans were alive and ours: {stdout}");
    assert_eq!(&counts[1..], [0, 0], "zombies, sleeps left: {stdout}");
}

#[test]
fn as_init_but_not_pid_1_orphans_still_come_to_us() {
    let dir = TempDir::new("dhi-subreaper");
    let bg = dir.path().join("bg");
    let script = format!(
        "( sleep 5 & echo $! > {bg} ); sleep 0.2; \
         read pid < {bg}; ppid=$(cut -d' ' -f4 /proc/$pid/stat); kill $pid; echo $PPID $ppid",
        bg = bg.display()
    );
    let child = spawn(direct(&with(&["--no-drop", "--init"], &sh(&script))));
    let hardbox = child.id();
    let out = finish(child);
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), Some(0), "{stderr}");
    assert_eq!(stdout.trim(), format!("{hardbox} {hardbox}"), "the command's parent and the orphan's new parent");
}

/// Blocked: USR1, TTOU and real-time 40; ignored: HUP, USR2 and TTIN (TTIN
/// and TTOU are the ones hardbox changes for itself). Plus fd 7, inherited.
const GIVEN_BLOCKED: u64 = 1 << 9 | 1 << 21 | 1 << 39;
const GIVEN_IGNORED: u64 = 1 | 1 << 11 | 1 << 20;

#[must_use = "the file must stay open until the command is spawned"]
fn given_signal_state_and_fd(cmd: &mut Command, fd_source: &Path) -> std::fs::File {
    let file = std::fs::File::create(fd_source).expect("create fd source");
    // SAFETY: between fork and exec in a single-threaded child, calling only
    // async-signal-safe functions (sigprocmask, sigaction, dup2).
    unsafe {
        use std::os::fd::AsRawFd;
        let raw = file.as_raw_fd();
        cmd.pre_exec(move || {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for sig in [libc::SIGUSR1, libc::SIGTTOU, 40] {
                libc::sigaddset(&mut set, sig);
            }
            libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
            for sig in [libc::SIGHUP, libc::SIGUSR2, libc::SIGTTIN] {
                libc::signal(sig, libc::SIG_IGN);
            }
            // dup2 onto itself would leave close-on-exec set.
            let ok = if raw == 7 { libc::fcntl(7, libc::F_SETFD, 0) == 0 } else { libc::dup2(raw, 7) == 7 };
            if !ok {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    file
}

/// What the kernel says about a running process: SigBlk, SigIgn, its fds.
fn observe(pid: u32) -> (String, String, Vec<u32>) {
    // The process is ours once it has exec'd busybox (before, it is a fork
    // of hardbox and may hold hardbox's close-on-exec fds).
    wait_until("the command's exec", || {
        (std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?.trim() == "busybox").then_some(())
    });
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read status");
    let mut fds: Vec<u32> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("read fd dir")
        .flatten()
        .filter_map(|entry| entry.file_name().to_string_lossy().parse().ok())
        .collect();
    fds.sort();
    (status_field(&status, "SigBlk"), status_field(&status, "SigIgn"), fds)
}

fn status_field(status: &str, field: &str) -> String {
    status
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in {status}"))
        .trim()
        .to_owned()
}

#[test]
fn the_command_gets_the_signal_state_and_fds_it_was_given() {
    if !require_root("the_command_gets_the_signal_state_and_fds_it_was_given") {
        return;
    }
    let dir = TempDir::new("dhi-state");
    let fd7 = dir.path().join("fd7");
    let command = [BUSYBOX, "sleep", "30"];
    // The baseline: the same command given the same state, without hardbox
    // but through unshare, so a change made by unshare is not taken for ours.
    let mut control = Command::new("unshare");
    control.args(["--pid", "--fork", "--"]).args(command);
    let file = given_signal_state_and_fd(&mut control, &fd7);
    let mut control = spawn(control);
    drop(file);
    let probe = only_child(control.id());
    let baseline = observe(probe);
    kill(9, probe);
    let _ = control.wait();
    let (blocked, ignored) =
        (u64::from_str_radix(&baseline.0, 16).unwrap(), u64::from_str_radix(&baseline.1, 16).unwrap());
    assert_eq!(blocked & GIVEN_BLOCKED, GIVEN_BLOCKED, "the baseline has what the test gave: {baseline:?}");
    assert_eq!(ignored & GIVEN_IGNORED, GIVEN_IGNORED, "the baseline has what the test gave: {baseline:?}");
    assert_eq!(ignored & (1 << (libc::SIGPIPE - 1)), 0, "SIGPIPE is not ignored in the baseline");
    // Whatever else the test itself inherited without close-on-exec is
    // passed on too, so it is in the baseline.
    assert!(baseline.2.starts_with(&[0, 1, 2]) && baseline.2.contains(&7), "{baseline:?}");

    // As PID 1 (supervised), as a subreaper (--init), and exec'd.
    for mode in ["pid 1", "--init", "exec"] {
        let mut cmd = match mode {
            "pid 1" => pid1(&["--no-drop"]),
            "--init" => direct(&["--no-drop", "--init"]),
            _ => direct(&["--no-drop"]),
        };
        cmd.args(command);
        let file = given_signal_state_and_fd(&mut cmd, &fd7);
        let child = spawn(cmd);
        drop(file);
        let pid = match mode {
            "pid 1" => only_child(only_child(child.id())),
            "--init" => only_child(child.id()),
            _ => child.id(),
        };
        assert_eq!(observe(pid), baseline, "{mode}: the command's SigBlk, SigIgn and fds");
        kill(9, pid);
        let out = finish(child);
        if mode == "exec" {
            assert_eq!(out.status.signal(), Some(9), "exec: nothing of ours was left to turn it into 137");
        } else {
            assert_eq!(code(&out), Some(137), "{mode}");
        }
    }
}

#[test]
fn missing_command_is_127_and_not_executable_is_126() {
    if !require_root("missing_command_is_127_and_not_executable_is_126") {
        return;
    }
    let dir = TempDir::new("dhi-exec");
    let plain = dir.path().join("plain");
    std::fs::write(&plain, "not a program\n").unwrap();
    let plain = plain.to_str().unwrap().to_owned();
    let missing = dir.path().join("missing").to_str().unwrap().to_owned();
    for mode in ["pid 1", "exec"] {
        let run = |command: &str| {
            let args = ["--no-drop", command];
            output(if mode == "pid 1" { pid1(&args) } else { direct(&args) })
        };
        let out = run(&missing);
        assert_eq!(code(&out), Some(127), "{mode}: {:?}", text(&out));
        assert!(text(&out).1.contains(&format!("dhi-bootstrap: {missing}: command not found")), "{:?}", text(&out));
        let out = run(&plain);
        assert_eq!(code(&out), Some(126), "{mode}: {:?}", text(&out));
        assert!(text(&out).1.contains(&format!("dhi-bootstrap: {plain}: cannot execute")), "{:?}", text(&out));
        let out = run("no-such-command-anywhere");
        assert_eq!(code(&out), Some(127), "{mode}: PATH search: {:?}", text(&out));
    }
}

#[test]
fn not_pid_1_exec_leaves_one_process() {
    let child = spawn(direct(&["--no-drop", BUSYBOX, "sh", "-c", "echo $$; ls /proc/$$/task | wc -l"]));
    let pid = child.id();
    let out = finish(child);
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), Some(0), "{stderr}");
    let lines: Vec<&str> = stdout.split_whitespace().collect();
    assert_eq!(lines, [pid.to_string().as_str(), "1"], "the command has dhi-bootstrap's pid, alone");
    assert!(stderr.contains("--no-drop: staying uid"), "says it did not drop: {stderr}");
}

#[test]
fn a_bad_expansion_runs_nothing() {
    let dir = TempDir::new("dhi-expand");
    let marker = dir.path().join("marker");
    let script = format!("touch {}", marker.display());
    let command = sh(&script);
    for bad in ["${PORT", "${DHI_TEST_UNSET_VAR:?set it}", "$1"] {
        let args = with(&["--no-drop", "--expand-env"], &command);
        let mut cmd = direct(&args);
        cmd.arg(bad).env_remove("DHI_TEST_UNSET_VAR");
        let out = output(cmd);
        assert_refused(&out, "dhi-bootstrap", "--expand-env");
        assert!(!marker.exists(), "{bad}: the command never ran");
    }
}

#[test]
fn expand_env_expands_once_and_only_when_asked() {
    let command = [BUSYBOX, "echo", "${PORT:-5000}", "$HOST_X", "$$", "${UNSET_Y-d}"].map(String::from);
    let mut cmd = direct(&with(&["--no-drop", "--expand-env"], &command));
    cmd.env("PORT", "8080").env("HOST_X", "$PORT").env_remove("UNSET_Y");
    let out = output(cmd);
    assert_eq!(text(&out).0, "8080 $PORT $ d\n", "{:?}", text(&out));
    let mut cmd = direct(&with(&["--no-drop"], &command));
    cmd.env("PORT", "8080");
    assert_eq!(text(&output(cmd)).0, "${PORT:-5000} $HOST_X $$ ${UNSET_Y-d}\n");
}

#[test]
fn half_a_route_pair_runs_nothing() {
    let dir = TempDir::new("dhi-pair");
    let marker = dir.path().join("marker");
    let script = format!("touch {}", marker.display());
    for (set, unset) in [("ROUTE_DESTINATION", "ROUTE_GATEWAY"), ("ROUTE_GATEWAY", "ROUTE_DESTINATION")] {
        let mut cmd = direct(&with(&["--no-drop"], &sh(&script)));
        cmd.env(set, "192.0.2.1").env_remove(unset);
        let out = output(cmd);
        assert_refused(&out, "dhi-bootstrap", &format!("{unset} is not set"));
        assert!(!marker.exists(), "the command never ran");
    }
}

#[test]
fn contradictory_options_are_refused() {
    for (args, needle) in [
        (&["--init", "--exec", "--no-drop", "true"][..], "--init and --exec"),
        (&["--no-drop", "--user", "nobody", "true"][..], "--no-drop contradicts --user"),
        (&["--no-drop"][..], "no command given"),
        (&["--bogus", "true"][..], "--bogus"),
    ] {
        assert_refused(&output(direct(args)), "dhi-bootstrap", needle);
    }
}
