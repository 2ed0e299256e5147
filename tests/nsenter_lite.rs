//! nsenter-lite against util-linux nsenter as the oracle: targets made with
//! unshare that differ in every namespace type, and a static busybox probe
//! run under both tools with the same flags. They must see the same world.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use common::*;

const BUSYBOX: &str = "/bin/busybox";
const NAMESPACES: [&str; 8] = ["cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"];

/// What the command sees, one `key value` line each. Every program is the
/// static busybox, so the probe runs in any mount namespace that has it.
/// `nspid` is the shell's own depth in pid namespaces (read by the shell
/// itself); everything in `$(...)` is seen by a child.
const PROBE: &str = r#"bb=/bin/busybox
for n in cgroup ipc mnt net pid time user uts; do echo "ns-$n $($bb readlink /proc/self/ns/$n)"; done
echo "hostname $($bb hostname)"
echo "marker $($bb cat "$MARKER")"
if [ -r /proc/self/status ]; then
  while read -r key value; do [ "$key" = NSpid: ] && { set -- $value; echo "nspid $#"; }; done < /proc/self/status
else
  echo "nspid -"
fi
echo "child-nspid $($bb grep NSpid /proc/self/status | $bb wc -w)"
echo "cwd $($bb pwd)"
echo "root $($bb stat -c %d:%i /)"
echo "addr $($bb ip -o -4 addr show | $bb grep -o '192\.0\.2\.[0-9]*' | $bb tr '\n' ' ')"
echo "msgqueues $($bb cat /proc/sysvipc/msg | $bb wc -l)"
echo "uidmap $($bb cat /proc/self/uid_map)"
echo "cgroups $($bb cat /proc/self/cgroup | $bb md5sum)"
echo "uid $($bb id -u)""#;

/// A process in namespaces of its own, made by `unshare ... --fork`. Its
/// script says `ready` on stdout when it is set up; the target is the
/// forked child. Killed by pid when dropped.
struct Target {
    unshare: Child,
    pid: i32,
    stdout: BufReader<ChildStdout>,
}

impl Target {
    fn new(flags: &[&str], script: &str) -> Target {
        let mut unshare = Command::new("unshare")
            .args(flags)
            .args(["--fork", "--kill-child", "/bin/sh", "-c", script])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("run unshare");
        let stdout = BufReader::new(unshare.stdout.take().expect("piped stdout"));
        let mut target = Target { unshare, pid: 0, stdout };
        target.expect_line("ready");
        target.pid = *children(target.unshare.id() as i32).first().expect("unshare forked the target");
        target
    }

    /// A process in our own namespaces, running `script`.
    fn plain(script: &str) -> Target {
        let mut child =
            Command::new(BUSYBOX).args(["sh", "-c", script]).stdout(Stdio::piped()).spawn().expect("run busybox");
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut target = Target { pid: child.id() as i32, unshare: child, stdout };
        target.expect_line("ready");
        target
    }

    /// `SETUP`, then `ready`, then a sleep that outlives the test.
    fn sleeping(flags: &[&str], setup: &str) -> Target {
        Target::new(flags, &format!("{setup}\necho ready\nexec {BUSYBOX} sleep 120"))
    }

    fn expect_line(&mut self, want: &str) {
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("read from target");
        assert_eq!(line.trim(), want, "target set-up failed");
    }

    fn ns(&self, name: &str) -> String {
        ns_of(&self.pid.to_string(), name)
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        let _ = kill(Pid::from_raw(self.pid), Signal::SIGKILL);
        let _ = self.unshare.kill();
        let _ = self.unshare.wait();
    }
}

/// The children of `pid`, waiting up to 5 s for there to be one.
fn children(pid: i32) -> Vec<i32> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let pids = children_now(pid);
        if !pids.is_empty() || Instant::now() > deadline {
            return pids;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn children_now(pid: i32) -> Vec<i32> {
    let list = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    list.split_whitespace().filter_map(|p| p.parse().ok()).collect()
}

/// Whether `pid` is running busybox (the command, rather than nsenter-lite).
fn runs_busybox(pid: i32) -> bool {
    let busybox = std::fs::canonicalize(BUSYBOX).expect("busybox");
    std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == busybox)
}

/// How many pid namespaces deep we are: the command's depth when it stays
/// out of the target's pid namespace.
fn our_depth() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("read status");
    status.lines().find(|l| l.starts_with("NSpid:")).map_or(0, |l| l.split_whitespace().count() - 1)
}

fn ns_of(pid: &str, name: &str) -> String {
    std::fs::read_link(format!("/proc/{pid}/ns/{name}")).map(|l| l.display().to_string()).unwrap_or_default()
}

fn nsenter_lite() -> PathBuf {
    applet("nsenter-lite")
}

/// Runs `TOOL -t PID FLAGS -- COMMAND` from `cwd`, with PWD unset so that
/// `pwd` reports the real working directory.
fn run(tool: &Path, pid: i32, flags: &[&str], command: &[&str], cwd: &Path, marker: &Path) -> Output {
    Command::new(tool)
        .arg("-t")
        .arg(pid.to_string())
        .args(flags)
        .arg("--")
        .args(command)
        .env_remove("PWD")
        .env("MARKER", marker)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .expect("run tool")
}

/// The probe under nsenter-lite and under nsenter: both succeed and see the
/// same. Returns what nsenter-lite saw.
fn compare(target: &Target, flags: &[&str], cwd: &Path, marker: &Path) -> BTreeMap<String, String> {
    let probe = [BUSYBOX, "sh", "-c", PROBE];
    let ours = run(&nsenter_lite(), target.pid, flags, &probe, cwd, marker);
    let theirs = run(Path::new("nsenter"), target.pid, flags, &probe, cwd, marker);
    let ((our_out, our_err), (their_out, their_err)) = (text(&ours), text(&theirs));
    assert!(ours.status.success(), "nsenter-lite {flags:?}: {our_err}");
    assert!(theirs.status.success(), "nsenter {flags:?}: {their_err}");
    assert_eq!(our_out, their_out, "nsenter-lite and nsenter {flags:?} see the same");
    parse_probe(&our_out)
}

fn parse_probe(out: &str) -> BTreeMap<String, String> {
    out.lines()
        .map(|line| line.split_once(' ').unwrap_or((line, "")))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect()
}

/// A target that differs from us in every namespace but the user one:
/// hostname, an address on lo, a tmpfs with a marker file, a message queue,
/// its own /proc, cgroup root and clocks.
fn full_target(marker_dir: &Path) -> Target {
    let dir = marker_dir.display();
    let setup = format!(
        "hostname target-$$ && ip link set lo up && ip addr add 192.0.2.7/24 dev lo && \
         mount -t tmpfs tmpfs {dir} && echo marker-$$ > {dir}/marker && ipcmk -Q >/dev/null && cd /"
    );
    Target::sleeping(&["-u", "-n", "-m", "-i", "-p", "-C", "-T", "--boottime", "86400", "--mount-proc"], &setup)
}

#[test]
fn each_flag_enters_its_namespace_only_as_nsenter_does() {
    if !require_root("each_flag_enters_its_namespace_only_as_nsenter_does") || !require_tool("each_flag", "nsenter") {
        return;
    }
    let (marker_dir, cwd) = (TempDir::new("nsl-marker"), TempDir::new("nsl-cwd"));
    let marker = marker_dir.path().join("marker");
    let target = full_target(marker_dir.path());
    for (flag, name) in
        [("-m", "mnt"), ("-u", "uts"), ("-i", "ipc"), ("-n", "net"), ("-p", "pid"), ("-C", "cgroup"), ("-T", "time")]
    {
        let seen = compare(&target, &[flag], cwd.path(), &marker);
        // With the target's mount namespace comes its /proc, where we are
        // not: /proc/self is not there to read.
        if flag != "-m" {
            for ns in NAMESPACES {
                let want = if ns == name { target.ns(ns) } else { ns_of("self", ns) };
                assert_eq!(seen[&format!("ns-{ns}")], want, "{flag}: the {ns} namespace");
            }
        }
        let entered = |n: &str| n == name;
        assert_eq!(seen["hostname"] == "target-1", entered("uts"), "{flag}: {seen:?}");
        assert_eq!(seen["addr"] == "192.0.2.7", entered("net"), "{flag}: {seen:?}");
        assert_eq!(seen["marker"].starts_with("marker-"), entered("mnt"), "{flag}: {seen:?}");
        assert_eq!(seen["cwd"] == "/", entered("mnt"), "{flag}: entering a mount namespace moves to its /");
        let deeper = seen["nspid"] == (our_depth() + 1).to_string();
        assert_eq!(deeper, entered("pid"), "{flag}: the command is a child in the pid namespace");
    }
}

#[test]
fn all_enters_every_namespace_that_differs_as_nsenter_does() {
    if !require_root("all_enters_every_namespace_that_differs") || !require_tool("all", "nsenter") {
        return;
    }
    let (marker_dir, cwd) = (TempDir::new("nsl-marker"), TempDir::new("nsl-cwd"));
    let marker = marker_dir.path().join("marker");
    let target = full_target(marker_dir.path());
    let seen = compare(&target, &["-a"], cwd.path(), &marker);
    for ns in NAMESPACES {
        assert_eq!(seen[&format!("ns-{ns}")], target.ns(ns), "-a: the {ns} namespace");
    }
    assert_eq!(seen["hostname"], "target-1");
    assert_eq!(seen["addr"], "192.0.2.7");
    assert_eq!(seen["marker"], "marker-1");
    assert_eq!(seen["msgqueues"], "2", "the target's one message queue, under a header line");
    assert_eq!(seen["nspid"], "1", "seen through the target's own /proc: one level");
    assert_eq!(seen["cwd"], "/");
}

#[test]
fn all_leaves_out_the_namespaces_we_share() {
    if !require_root("all_leaves_out_the_namespaces_we_share") {
        return;
    }
    let cwd = TempDir::new("nsl-cwd");
    let target = Target::sleeping(&["-u"], "hostname shares-all-but-uts");
    let out = run(&nsenter_lite(), target.pid, &["-a"], &[BUSYBOX, "sh", "-c", PROBE], cwd.path(), cwd.path());
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let seen = parse_probe(&stdout);
    assert_eq!(seen["hostname"], "shares-all-but-uts");
    for ns in NAMESPACES {
        let want = if ns == "uts" { target.ns(ns) } else { ns_of("self", ns) };
        assert_eq!(seen[&format!("ns-{ns}")], want, "{ns}");
    }
    assert_eq!(seen["cwd"], cwd.path().display().to_string(), "our own mount namespace was not re-entered");
    assert_eq!(seen["nspid"], our_depth().to_string(), "no pid namespace to enter, so no fork");
    assert!(!stderr.contains("nsenter-lite:"), "silent on success by default: {stderr}");
    let out = Command::new(nsenter_lite())
        .args(["-t", &target.pid.to_string(), "-a", "true"])
        .env("HARDBOX_LOG", "info")
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(stderr, format!("nsenter-lite: entered the namespaces of process {}: uts\n", target.pid));
}

#[test]
fn user_namespace_as_its_root_or_with_our_credentials() {
    if !require_root("user_namespace_as_its_root_or_with_our_credentials") || !require_tool("user", "nsenter") {
        return;
    }
    let cwd = TempDir::new("nsl-cwd");
    // Its own mount namespace too: util-linux's -a enters even the ones we
    // share, which would move its cwd to / and spoil the comparison.
    let target = Target::sleeping(&["-U", "--map-root-user", "-u", "-m"], "hostname in-userns");
    for flags in [&["-U", "-u"][..], &["-a"]] {
        let seen = compare(&target, flags, cwd.path(), cwd.path());
        assert_eq!(seen["ns-user"], target.ns("user"), "{flags:?}");
        assert_eq!(seen["uidmap"].split_whitespace().collect::<Vec<_>>(), ["0", "0", "1"], "{flags:?}");
        assert_eq!(seen["uid"], "0", "{flags:?}: root of the user namespace");
        assert_eq!(seen["hostname"], "in-userns");
    }
    let seen = compare(&target, &["-U", "--preserve-credentials", "-u"], cwd.path(), cwd.path());
    assert_eq!(seen["ns-user"], target.ns("user"));
}

/// A target chrooted into a directory holding busybox, working in /sub.
fn chrooted_target(dir: &Path) -> Target {
    std::fs::create_dir_all(dir.join("bin")).expect("mkdir bin");
    std::fs::create_dir_all(dir.join("sub")).expect("mkdir sub");
    std::fs::create_dir_all(dir.join("proc")).expect("mkdir proc");
    std::fs::copy(BUSYBOX, dir.join("bin/busybox")).expect("copy busybox");
    std::fs::write(dir.join("chroot-marker"), "inside").expect("write marker");
    let script = format!(
        "mount -t proc proc {dir}/proc && exec chroot {dir} /bin/busybox sh -c 'cd /sub && echo ready && exec /bin/busybox sleep 120'",
        dir = dir.display()
    );
    Target::new(&["-m"], &script)
}

#[test]
fn root_and_working_directory_as_nsenter_does() {
    if !require_root("root_and_working_directory_as_nsenter_does") || !require_tool("root", "nsenter") {
        return;
    }
    let (dir, cwd) = (TempDir::new("nsl-chroot"), TempDir::new("nsl-cwd"));
    let target = chrooted_target(dir.path());
    let marker = Path::new("/chroot-marker");
    let root = |path: &Path| {
        let meta = std::fs::metadata(path).expect("stat");
        use std::os::unix::fs::MetadataExt;
        format!("{}:{}", meta.dev(), meta.ino())
    };
    let seen = compare(&target, &["-m", "-r", "-w"], cwd.path(), marker);
    assert_eq!((seen["cwd"].as_str(), seen["marker"].as_str()), ("/sub", "inside"));
    assert_eq!(seen["root"], root(dir.path()));

    let seen = compare(&target, &["-m", "-w"], cwd.path(), marker);
    assert_eq!(seen["cwd"], dir.path().join("sub").display().to_string(), "-w without -r: the path from our root");
    assert_eq!(seen["root"], root(Path::new("/")));

    let seen = compare(&target, &["-u", "-w"], cwd.path(), marker);
    assert_eq!(seen["cwd"], dir.path().join("sub").display().to_string());

    let seen = compare(&target, &["-u", "-r", "-w"], cwd.path(), marker);
    assert_eq!((seen["cwd"].as_str(), seen["marker"].as_str()), ("/sub", "inside"));

    // -r alone puts the working directory at the new root's /, where
    // util-linux would leave it outside the root: the one difference.
    let out = run(&nsenter_lite(), target.pid, &["-m", "-r"], &[BUSYBOX, "sh", "-c", PROBE], cwd.path(), marker);
    let alone = parse_probe(&text(&out).0);
    assert_eq!((alone["cwd"].as_str(), alone["marker"].as_str()), ("/", "inside"));
}

/// The status as a shell reports it: the code, or 128+N for signal N.
fn shell_status(status: ExitStatus) -> i32 {
    status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

#[test]
fn exit_statuses_pass_through_with_and_without_a_pid_namespace() {
    if !require_root("exit_statuses_pass_through") || !require_tool("exit", "nsenter") {
        return;
    }
    let cwd = TempDir::new("nsl-cwd");
    let target = Target::sleeping(&["-u", "-p", "--mount-proc"], "hostname statuses");
    for flags in [&["-u"][..], &["-u", "-p"], &["-u", "-p", "-F"]] {
        for (script, want) in [("exit 0", 0), ("exit 3", 3), ("exit 255", 255), ("kill -TERM $$", 143)] {
            let command = [BUSYBOX, "sh", "-c", script];
            let ours = run(&nsenter_lite(), target.pid, flags, &command, cwd.path(), cwd.path());
            let theirs = run(Path::new("nsenter"), target.pid, flags, &command, cwd.path(), cwd.path());
            assert_eq!(shell_status(ours.status), want, "{flags:?} {script}: {}", text(&ours).1);
            assert_eq!(shell_status(theirs.status), want, "nsenter {flags:?} {script}");
        }
    }
    let missing = run(&nsenter_lite(), target.pid, &["-u", "-p"], &["/no/such/command"], cwd.path(), cwd.path());
    assert_eq!(missing.status.code(), Some(127), "{}", text(&missing).1);
}

/// Starts `nsenter-lite -t PID FLAGS -- sleep 60` and waits until the
/// sleep runs.
fn start_sleep(target: &Target, flags: &[&str]) -> Child {
    let child = Command::new(nsenter_lite())
        .arg("-t")
        .arg(target.pid.to_string())
        .args(flags)
        .args(["--", BUSYBOX, "sleep", "60"])
        .stderr(Stdio::null())
        .spawn()
        .expect("run nsenter-lite");
    let deadline = Instant::now() + Duration::from_secs(5);
    let pid = child.id() as i32;
    while !runs_busybox(pid) && !children_now(pid).into_iter().any(runs_busybox) {
        assert!(Instant::now() < deadline, "the sleep never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    child
}

#[test]
fn term_reaches_the_command_with_and_without_fork() {
    if !require_root("term_reaches_the_command") {
        return;
    }
    let target = Target::sleeping(&["-u", "-p", "--mount-proc"], "hostname term");

    // Without -p nothing stays behind: the process is the command itself.
    let mut direct = start_sleep(&target, &["-u"]);
    assert!(runs_busybox(direct.id() as i32));
    assert!(children_now(direct.id() as i32).is_empty());
    kill(Pid::from_raw(direct.id() as i32), Signal::SIGTERM).expect("TERM");
    assert_eq!(shell_status(direct.wait().expect("wait")), 143);

    // With -p the TERM sent to nsenter-lite is forwarded to the command in
    // the pid namespace, which dies of it; nothing is left running.
    let mut forked = start_sleep(&target, &["-u", "-p"]);
    let command = children(forked.id() as i32);
    assert_eq!(command.len(), 1, "one child: the command");
    kill(Pid::from_raw(forked.id() as i32), Signal::SIGTERM).expect("TERM");
    let status = forked.wait().expect("wait");
    assert_eq!(status.signal(), Some(libc::SIGTERM), "re-raised, as nsenter does: {status:?}");
    assert!(!Path::new(&format!("/proc/{}", command[0])).exists(), "the command is gone too");
}

#[test]
fn no_fork_leaves_the_command_outside_the_pid_namespace() {
    if !require_root("no_fork_leaves_the_command_outside") || !require_tool("no_fork", "nsenter") {
        return;
    }
    let cwd = TempDir::new("nsl-cwd");
    let target = Target::sleeping(&["-p", "--mount-proc"], ":");
    for flags in [&["-p", "-F"][..], &["-p", "--no-fork"]] {
        let seen = compare(&target, flags, cwd.path(), cwd.path());
        assert_eq!(seen["nspid"], our_depth().to_string(), "{flags:?}: the command itself stays where it was");
        assert_eq!(seen["child-nspid"], (our_depth() + 2).to_string(), "{flags:?}: its children are born there");
        assert_eq!(seen["ns-pid"], target.ns("pid"), "{flags:?}: seen by a child");
    }
    assert_eq!(compare(&target, &["-p"], cwd.path(), cwd.path())["nspid"], (our_depth() + 1).to_string());
}

#[test]
fn util_linux_spellings_work() {
    if !require_root("util_linux_spellings_work") {
        return;
    }
    let target = Target::sleeping(&["-u", "-n"], "hostname spelled");
    for args in [
        &["-t", "PID", "-u", "-n", "hostname"][..],
        &["--target", "PID", "--uts", "--net", "--", "hostname"],
        &["--target=PID", "-un", "hostname"],
        &["-tPID", "-u", "hostname", "-s"],
    ] {
        let pid = target.pid.to_string();
        let args: Vec<String> = args.iter().map(|a| a.replace("PID", &pid)).collect();
        let out = Command::new(nsenter_lite()).args(&args).output().expect("run");
        assert!(out.status.success(), "{args:?}: {}", text(&out).1);
        assert_eq!(text(&out).0.trim(), "spelled", "{args:?}");
    }
}

#[test]
fn without_a_command_the_shell_runs_and_a_missing_one_is_named() {
    if !require_root("without_a_command_the_shell_runs") || !require_tool("shell", "nsenter") {
        return;
    }
    let target = Target::sleeping(&["-u"], "hostname shell-target");
    let shell = |tool: &Path, shell: &str| {
        Command::new(tool).args(["-t", &target.pid.to_string(), "-u"]).env("SHELL", shell).output().expect("run")
    };
    let (ours, theirs) = (shell(&nsenter_lite(), "/bin/hostname"), shell(Path::new("nsenter"), "/bin/hostname"));
    assert!(ours.status.success(), "{}", text(&ours).1);
    assert_eq!(text(&ours).0, "shell-target\n");
    assert_eq!(ours.stdout, theirs.stdout);

    let out = shell(&nsenter_lite(), "/no/such/shell");
    assert_eq!(out.status.code(), Some(127));
    assert_eq!(
        text(&out).1.lines().last(),
        Some("nsenter-lite: no shell /no/such/shell in the target (set SHELL, or give a COMMAND)")
    );
}

#[test]
fn the_command_inherits_no_descriptor_of_ours() {
    if !require_root("the_command_inherits_no_descriptor_of_ours") {
        return;
    }
    let (dir, cwd) = (TempDir::new("nsl-chroot"), TempDir::new("nsl-cwd"));
    let target = chrooted_target(dir.path());
    // What a command started by this test inherits anyway (cargo's jobserver
    // among it), and ls's own handle on the directory it lists.
    let ls = [BUSYBOX, "ls", "/proc/self/fd"];
    let direct = Command::new(BUSYBOX).args(&ls[1..]).stdin(Stdio::null()).output().expect("run ls");
    assert!(direct.status.success());
    for flags in [&["-u", "-r", "-w"][..], &["-a", "-r", "-w"], &["-m", "-a"]] {
        let out = run(&nsenter_lite(), target.pid, flags, &ls, cwd.path(), cwd.path());
        assert!(out.status.success(), "{flags:?}: {}", text(&out).1);
        assert_eq!(text(&out).0, text(&direct).0, "{flags:?}");
    }
}

/// A command that would leave a trace if it ran.
fn refused(args: &[&str], needle: &str) {
    let out = Command::new(nsenter_lite()).args(args).args(["--", BUSYBOX, "echo", "RAN"]).output().expect("run");
    assert_refused(&out, "nsenter-lite", needle);
    assert!(out.stdout.is_empty(), "{args:?}: the command ran");
}

#[test]
fn bad_requests_are_refused_and_nothing_runs() {
    if !require_root("bad_requests_are_refused_and_nothing_runs") {
        return;
    }
    let target = Target::sleeping(&["-u"], ":");
    let pid = target.pid.to_string();
    refused(&["-t", "abc", "-u"], "-t \"abc\": not a process id");
    refused(&["-t", "-4", "-u"], "not a process id");
    refused(&["-t", "4194305", "-a"], "no process 4194305");
    refused(&["-u"], "no target: give -t PID");
    refused(&["-t", &pid], "no namespace selected");
    refused(&["-t", &pid, "-r", "-w"], "no namespace selected");
    refused(&["-t", &pid, "--bogus"], "--bogus");
    // The kernel refuses the whole set (we are in that user namespace
    // already): one line, and the uts namespace is not half entered.
    refused(&["-t", &pid, "-u", "-U"], "entering the namespaces of process");
}

#[test]
fn a_zombie_target_is_named() {
    if !require_root("a_zombie_target_is_named") {
        return;
    }
    // A stopped parent reaps nobody.
    let target = Target::plain(&format!("{BUSYBOX} sleep 0.2 & echo ready; exec {BUSYBOX} sleep 120"));
    kill(Pid::from_raw(target.pid), Signal::SIGSTOP).expect("stop the parent");
    let zombie = children(target.pid)[0];
    let deadline = Instant::now() + Duration::from_secs(5);
    while !std::fs::read_to_string(format!("/proc/{zombie}/stat")).unwrap_or_default().contains(") Z") {
        assert!(Instant::now() < deadline, "no zombie");
        std::thread::sleep(Duration::from_millis(10));
    }
    refused(&["-t", &zombie.to_string(), "-u"], "is a zombie");
}

#[test]
fn without_proc_a_pidfd_suffices_and_the_rest_says_proc_is_missing() {
    if !require_root("without_proc") {
        return;
    }
    let target = Target::sleeping(&["-u"], "hostname no-proc");
    let without_proc = |flags: &str| {
        let script = format!(
            "umount -l /proc && exec {} -t {} {flags} -- {BUSYBOX} hostname",
            nsenter_lite().display(),
            target.pid
        );
        Command::new("unshare").args(["-m", "sh", "-c", &script]).output().expect("run unshare")
    };
    let out = without_proc("-u");
    assert!(out.status.success(), "{}", text(&out).1);
    assert_eq!(text(&out).0, "no-proc\n");
    for flags in ["-a", "-u -r", "-u -w"] {
        let out = without_proc(flags);
        assert_refused(&out, "nsenter-lite", "/proc is not mounted");
        assert!(out.stdout.is_empty(), "{flags}: the command ran");
    }
}

#[test]
fn unprivileged_callers_get_the_fix() {
    if !require_root("unprivileged_callers_get_the_fix") || !require_tool("unprivileged", "setpriv") {
        return;
    }
    let target = Target::sleeping(&["-u", "-n", "-m"], ":");
    for flags in [&["-u"][..], &["-a"], &["-m", "-n", "-u"], &["-u", "-w"]] {
        let out = Command::new("setpriv")
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all"])
            .arg(nsenter_lite())
            .args(["-t", &target.pid.to_string()])
            .args(flags)
            .args(["--", BUSYBOX, "echo", "RAN"])
            .output()
            .expect("run setpriv");
        assert_refused(&out, "nsenter-lite", "needs CAP_SYS_ADMIN, and CAP_SYS_CHROOT for -m");
        assert!(text(&out).1.contains("run privileged, with --pid=host for the host"), "{flags:?}");
        assert!(out.stdout.is_empty(), "{flags:?}: the command ran");
    }
}

/// The links of a process's open descriptors (`/`, `anon_inode:[pidfd]`).
fn fd_links(pid: i32) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { return Vec::new() };
    dir.flatten().filter_map(|e| std::fs::read_link(e.path()).ok()).map(|l| l.display().to_string()).collect()
}

/// Issue 18.7: with -a and every namespace shared, nothing is entered, so no
/// setns through the pidfd could fail on a target that died after it was
/// opened; -r then took the root of whoever had the pid. strace holds
/// nsenter-lite at its liveness check while the target dies and is reaped:
/// it must refuse, and the command must never run. (Before the fix there
/// was no check to hold: the command ran.)
#[test]
fn a_target_that_died_after_it_was_opened_is_refused_when_nothing_is_entered() {
    let test = "a_target_that_died_after_it_was_opened_is_refused_when_nothing_is_entered";
    if !require_root(test) || !require_tool(test, "strace") {
        return;
    }
    let dir = TempDir::new("nsl-dead");
    let marker = dir.path().join("ran");
    let mut target = Command::new("sleep").arg("60").spawn().expect("spawn the target");
    let mut strace = Command::new("strace")
        .args(["-f", "-qq", "-o", "/dev/null", "-e", "trace=pidfd_send_signal"])
        .args(["-e", "inject=pidfd_send_signal:delay_enter=1500000"])
        .arg(nsenter_lite())
        .args(["-t", &target.id().to_string(), "-a", "-r", "--", BUSYBOX, "touch"])
        .arg(&marker)
        .env("HARDBOX_LOG", "quiet")
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn strace");
    // Once nsenter-lite holds the pidfd and the target's root, it is at the
    // check (or, without one, already past it: then strace ends first).
    let at_check = wait_until("nsenter-lite at its check", Duration::from_secs(10), || {
        if strace.try_wait().expect("poll strace").is_some() {
            return Some(false);
        }
        let tracee = children(strace.id() as i32).into_iter().next()?;
        let links = fd_links(tracee);
        (links.iter().any(|l| l.contains("pidfd")) && links.iter().any(|l| l == "/")).then_some(true)
    });
    target.kill().expect("kill the target");
    target.wait().expect("reap the target");
    assert!(at_check, "nsenter-lite ran to the end without a check it could be held at");
    let out = strace.wait_with_output().expect("wait for strace");
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(125), "{stderr}");
    assert!(stderr.contains("has exited"), "{stderr}");
    assert!(!marker.exists(), "the command never ran");
}
