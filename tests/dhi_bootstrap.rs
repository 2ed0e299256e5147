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

/// Makes the applet links before this test spawns anything: the first test
/// to need them copies hardbox, and a process forked meanwhile by another
/// test would hold the copy open for writing (exec: ETXTBSY). Every test
/// asks for them before its first spawn, so none forks during the copy.
fn links_installed() {
    let _ = applet("dhi-bootstrap");
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
    let script = "i=0; while [ $i -lt 100 ]; do ( sleep 1 & ); i=$((i+1)); done; \
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
    // Most are still asleep when counted, even on a loaded machine.
    assert!(counts[0] >= 50, "the orphans were alive and ours: {stdout}");
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
/// and TTOU are the ones hardbox changes for itself), and PIPE when asked
/// (the Rust runtime changes it). Plus fd 7, inherited.
const GIVEN_BLOCKED: u64 = 1 << 9 | 1 << 21 | 1 << 39;
const GIVEN_IGNORED: u64 = 1 | 1 << 11 | 1 << 20;
const PIPE: u64 = 1 << 12;

#[must_use = "the file must stay open until the command is spawned"]
fn given_signal_state_and_fd(cmd: &mut Command, fd_source: &Path, ignore_pipe: bool) -> std::fs::File {
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
            if ignore_pipe {
                libc::signal(libc::SIGPIPE, libc::SIG_IGN);
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
    links_installed();
    let dir = TempDir::new("dhi-state");
    let fd7 = dir.path().join("fd7");
    let command = [BUSYBOX, "sleep", "30"];
    for ignore_pipe in [false, true] {
        // The baseline: the same command given the same state, without
        // hardbox but through unshare, so a change made by unshare is not
        // taken for ours.
        let mut control = Command::new("unshare");
        control.args(["--pid", "--fork", "--"]).args(command);
        let file = given_signal_state_and_fd(&mut control, &fd7, ignore_pipe);
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
        assert_eq!(ignored & PIPE != 0, ignore_pipe, "SIGPIPE in the baseline: {baseline:?}");
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
            let file = given_signal_state_and_fd(&mut cmd, &fd7, ignore_pipe);
            let child = spawn(cmd);
            drop(file);
            let pid = match mode {
                "pid 1" => only_child(only_child(child.id())),
                "--init" => only_child(child.id()),
                _ => child.id(),
            };
            assert_eq!(observe(pid), baseline, "{mode}, PIPE ignored {ignore_pipe}: SigBlk, SigIgn and fds");
            kill(9, pid);
            let out = finish(child);
            if mode == "exec" {
                assert_eq!(out.status.signal(), Some(9), "exec: nothing of ours was left to turn it into 137");
            } else {
                assert_eq!(code(&out), Some(137), "{mode}");
            }
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
    let child = spawn(direct(&["--no-drop", BUSYBOX, "sh", "-c", "echo $$ $PPID"]));
    let pid = child.id();
    let out = finish(child);
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), Some(0), "{stderr}");
    assert_eq!(
        stdout.trim(),
        format!("{pid} {}", std::process::id()),
        "the command has dhi-bootstrap's pid, no parent between"
    );
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

/// The probe for the privilege drop: its own fds (no pipeline, no command
/// substitution: the shell would hold fds of its own meanwhile), then its
/// status.
const WHO_AM_I: &str = "ls /proc/$$/fd; echo STATUS; cat /proc/$$/status";

/// The fds and the named status fields a WHO_AM_I probe printed.
fn who(stdout: &str) -> (Vec<u32>, Vec<(String, String)>) {
    let (fds, status) = stdout.split_once("STATUS\n").unwrap_or_else(|| panic!("probe output: {stdout}"));
    let mut fds: Vec<u32> = fds.split_whitespace().map(|fd| fd.parse().unwrap()).collect();
    fds.sort();
    let fields = ["Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs"]
        .iter()
        .map(|field| (field.to_string(), status_field(status, field).split_whitespace().collect::<Vec<_>>().join(" ")))
        .collect();
    (fds, fields)
}

fn nobody_for_good() -> Vec<(String, String)> {
    [
        ("Uid", "65534 65534 65534 65534"),
        ("Gid", "65534 65534 65534 65534"),
        ("Groups", "65534"),
        ("CapInh", "0000000000000000"),
        ("CapPrm", "0000000000000000"),
        ("CapEff", "0000000000000000"),
        ("CapBnd", "0000000000000000"),
        ("CapAmb", "0000000000000000"),
        ("NoNewPrivs", "1"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// A network namespace with a veth pair, v0 at 192.0.2.1/24 and
/// 2001:db8::1/64 (no dummy module on every host).
fn netns_with_link() -> Netns {
    links_installed();
    let ns = Netns::new();
    ns.sh("ip link add v0 type veth peer name v1 && ip link set v1 up && ip link set v0 up && \
           ip addr add 192.0.2.1/24 dev v0 && ip -6 addr add 2001:db8::1/64 dev v0 nodad");
    ns
}

/// `ip netns exec NS [unshare --pid --fork --mount-proc --] dhi-bootstrap ARGS`
fn in_netns(ns: &Netns, as_pid1: bool, args: &[&str]) -> Command {
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", &ns.name]);
    if as_pid1 {
        cmd.args(["unshare", "--pid", "--fork", "--mount-proc", "--"]);
    }
    cmd.arg(applet("dhi-bootstrap")).args(args);
    cmd
}

fn route_of(ns: &Netns, family: &str, dest: &str) -> String {
    ns.sh(&format!("ip {family} route show {dest}")).trim().to_owned()
}

#[test]
fn routes_from_env_and_flags_are_set_then_the_command_runs_dropped() {
    if !require_root("routes_from_env_and_flags_are_set_then_the_command_runs_dropped")
        || !require_tool("routes_from_env_and_flags_are_set_then_the_command_runs_dropped", "ip")
    {
        return;
    }
    for as_pid1 in [true, false] {
        let ns = netns_with_link();
        let mut cmd =
            in_netns(&ns, as_pid1, &with(&["--user", "nobody", "--route", "203.0.113.128/25 dev v0"], &sh(WHO_AM_I)));
        cmd.env("ROUTE_DESTINATION", "198.51.100.0/24")
            .env("ROUTE_GATEWAY", "192.0.2.254")
            .env("ROUTES", "203.0.113.0/25 via 192.0.2.253;\n2001:db8:1::/48 via 2001:db8::fe");
        let out = output(cmd);
        let (stdout, stderr) = text(&out);
        assert_eq!(code(&out), Some(0), "pid 1: {as_pid1}: {stderr}");
        assert_eq!(route_of(&ns, "-4", "198.51.100.0/24"), "198.51.100.0/24 via 192.0.2.254 dev v0");
        assert_eq!(route_of(&ns, "-4", "203.0.113.0/25"), "203.0.113.0/25 via 192.0.2.253 dev v0");
        assert!(route_of(&ns, "-4", "203.0.113.128/25").starts_with("203.0.113.128/25 dev v0"));
        assert!(route_of(&ns, "-6", "2001:db8:1::/48").starts_with("2001:db8:1::/48 via 2001:db8::fe dev v0"));
        assert!(stderr.contains("dhi-bootstrap: route 198.51.100.0/24 via 192.0.2.254 set"), "{stderr}");
        assert!(stderr.contains("dhi-bootstrap: running as nobody (uid 65534, gid 65534, groups 65534)"), "{stderr}");

        let (fds, fields) = who(&stdout);
        assert_eq!(fields, nobody_for_good(), "pid 1: {as_pid1}");
        // The same probe without hardbox: no fd of ours (the netlink socket)
        // may be among the command's.
        let (baseline, _) = who(&text(&ns.run(BUSYBOX, ["sh", "-c", WHO_AM_I])).0);
        assert_eq!(fds, baseline, "pid 1: {as_pid1}: the command's fds");
    }
}

#[test]
fn the_seeds_case_drop_to_user_nobody_runs_as_nobody_nogroup() {
    if !require_root("the_seeds_case_drop_to_user_nobody_runs_as_nobody_nogroup") {
        return;
    }
    for as_pid1 in [true, false] {
        let mut cmd = if as_pid1 { pid1(&[]) } else { direct(&[]) };
        cmd.args(sh(&format!("{WHO_AM_I}; id"))).env("DROP_TO_USER", "nobody");
        let out = output(cmd);
        let (stdout, stderr) = text(&out);
        assert_eq!(code(&out), Some(0), "{stderr}");
        assert_eq!(who(&stdout).1, nobody_for_good());
        assert!(stdout.contains("uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)"), "{stdout}");
    }
}

#[test]
fn already_the_target_user_goes_on() {
    if !require_root("already_the_target_user_goes_on") || !require_tool("already_the_target_user_goes_on", "setpriv") {
        return;
    }
    let as_nobody = |user: &str| {
        let mut cmd = Command::new("setpriv");
        cmd.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]).arg(applet("dhi-bootstrap"));
        cmd.args(["--user", user, BUSYBOX, "id", "-u"]);
        output(cmd)
    };
    let out = as_nobody("nobody");
    assert_eq!(code(&out), Some(0), "{:?}", text(&out));
    assert_eq!(text(&out).0, "65534\n");
    let out = as_nobody("daemon");
    assert_refused(&out, "dhi-bootstrap", "must run as root to become daemon");
}

/// A directory the command may write its marker into whoever it runs as.
fn marker_dir(tag: &str) -> TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new(tag);
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    dir
}

#[test]
fn fail_closed_nothing_changes_and_the_command_never_runs() {
    if !require_root("fail_closed_nothing_changes_and_the_command_never_runs")
        || !require_tool("fail_closed_nothing_changes_and_the_command_never_runs", "ip")
    {
        return;
    }
    let dir = marker_dir("dhi-closed");
    let marker = dir.path().join("marker");
    let touch = sh(&format!("touch {}", marker.display()));
    let good = "198.51.100.0/24 via 192.0.2.254";
    // (flags, environment, an argument after the probe, what the one stderr
    // line says); in every case the good route must not have been set
    // either: the failure is found before the first change.
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: [Case; 6] = [
        (
            &["--user", "nobody", "--route", good, "--route", "203.0.113.0/24 dev nosuch0"],
            &[],
            "",
            "no interface named nosuch0",
        ),
        (&["--user", "nobody", "--route", good, "--route", "203.0.113.0/33 dev v0"], &[], "", "203.0.113.0/33"),
        (&["--route", good], &[("DROP_TO_USER", "no-such-user-here")], "", "no-such-user-here"),
        (&["--user", "nobody:no-such-group-here", "--route", good], &[], "", "no-such-group-here"),
        (
            &["--route", good],
            &[("DROP_TO_USER", "nobody"), ("ROUTE_DESTINATION", "203.0.113.0/24")],
            "",
            "ROUTE_GATEWAY",
        ),
        (&["--route", good, "--user", "nobody", "--expand-env"], &[], "${X", "--expand-env"),
    ];
    for (flags, env, extra, needle) in cases {
        let ns = netns_with_link();
        let mut cmd = in_netns(&ns, true, &with(flags, &touch));
        cmd.args((!extra.is_empty()).then_some(extra)).envs(env.iter().copied()).env_remove("ROUTE_GATEWAY");
        let out = output(cmd);
        assert_refused(&out, "dhi-bootstrap", needle);
        assert!(!marker.exists(), "{flags:?}: the command never ran");
        assert_eq!(route_of(&ns, "-4", "198.51.100.0/24"), "", "{flags:?}: no route was set before the failure");
    }
    // A route the kernel refuses when it is applied (the gateway is not
    // reachable): 125, route-add's message, and the command never runs.
    let ns = netns_with_link();
    let out =
        output(in_netns(&ns, true, &with(&["--user", "nobody", "--route", "198.51.100.0/24 via 203.0.113.9"], &touch)));
    assert_refused(&out, "dhi-bootstrap", "198.51.100.0/24 via 203.0.113.9");
    assert!(!marker.exists(), "the command never ran after a failed route");
    // Refused after good routes were set: those it created are deleted again,
    // so the table is exactly as it was (a replaced route cannot be undone,
    // so none is replaced here).
    let before = ns.routes();
    let refused = "203.0.113.0/24 via 198.51.100.9";
    let routes = format!("{good}; 2001:db8:1::/48 via 2001:db8::254; {refused}");
    let mut cmd = in_netns(&ns, true, &with(&["--user", "nobody"], &touch));
    let out = output({
        cmd.env("ROUTES", &routes);
        cmd
    });
    assert_eq!(code(&out), Some(125), "{:?}", text(&out));
    assert!(text(&out).1.contains(refused), "{:?}", text(&out));
    assert!(!marker.exists(), "the command never ran after a failed route");
    assert_eq!(ns.routes(), before, "the routes set before the refused one were removed again");
    // The control: the same command, configured well, does leave the marker.
    let out = output(in_netns(&ns, true, &with(&["--user", "nobody", "--route", good], &touch)));
    assert_eq!(code(&out), Some(0), "{:?}", text(&out));
    assert!(marker.exists(), "the probe can write its marker as nobody");
}

#[test]
fn keep_caps_keeps_exactly_those_through_the_drop() {
    if !require_root("keep_caps_keeps_exactly_those_through_the_drop") {
        return;
    }
    let out = output(pid1(&with(&["--user", "nobody", "--keep-caps", "net_bind_service"], &sh(WHO_AM_I))));
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), Some(0), "{stderr}");
    let want: Vec<(String, String)> = nobody_for_good()
        .into_iter()
        .map(|(k, v)| if k.starts_with("Cap") { (k, "0000000000000400".into()) } else { (k, v) })
        .collect();
    assert_eq!(who(&stdout).1, want);
}

#[test]
fn a_bad_capability_list_is_blamed_on_itself_not_on_the_user() {
    let out = Command::new(applet("dhi-bootstrap"))
        .args(["--keep-caps", "", "--", "/bin/true"])
        .env("DROP_TO_USER", "nobody")
        .output()
        .expect("run dhi-bootstrap");
    assert_refused(&out, "dhi-bootstrap", "invalid capability list \"\"");
    assert!(!text(&out).1.contains("DROP_TO_USER"), "{:?}", text(&out).1);
}
