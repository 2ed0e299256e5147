//! Faults: PID 1 under a signal storm and an orphan flood, start-up in a
//! hostile image (8 descriptors, no /proc, a read-only root, /etc/passwd
//! missing, unreadable or full of garbage), checkpoint on a full
//! filesystem, and every applet installed setuid or setgid.
//!
//! Each answer must be a clear error (exit 125, one line) or the right
//! behaviour, never a panic, and never a command run as anyone but the user
//! asked for: the command reports its own ids, read by busybox `id` inside
//! the very process hardbox exec'd.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::scratch::Scratch;
use common::{applet, assert_refused, children, require_root, require_tool, text, wait_until, TempDir};

const BUSYBOX: &str = "/bin/busybox";

/// Sends signal `sig` (any number, real-time ones included) to `pid`.
fn kill(pid: u32, sig: i32) -> bool {
    // SAFETY: kill(2) takes plain integers and touches no memory of ours.
    unsafe { libc::kill(pid as libc::pid_t, sig) == 0 }
}

/// dhi-bootstrap as PID 1 of a new PID namespace (with its own /proc),
/// running a busybox shell line.
fn pid1(script: &str) -> Child {
    Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "--"])
        .arg(applet("dhi-bootstrap"))
        .args(["--no-drop", BUSYBOX, "sh", "-c", script])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn unshare")
}

/// What the storm is made of besides TERM: standard signals the child
/// ignores, and real-time ones (which queue rather than coalesce).
const NOISE: [i32; 10] = [
    libc::SIGHUP,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGWINCH,
    libc::SIGALRM,
    libc::SIGURG,
    libc::SIGCONT,
    40,
    50,
    64,
];

/// Standard signals coalesce: ten TERMs sent while one is pending are one
/// TERM. So "every TERM" is made exact by a handshake: TERM number k is sent
/// only once the child has logged TERM k-1, so none can merge with another,
/// in hardbox or in the child, and the child must log each exactly once.
/// Between two TERMs, 49 other signals are fired without waiting; 200 rounds
/// make 10,000 signals. The child exits 42 at the 200th TERM.
#[test]
fn pid_1_under_a_storm_of_10000_signals_passes_on_every_term() {
    if !require_root("pid_1_under_a_storm_of_10000_signals_passes_on_every_term") {
        return;
    }
    const TERMS: usize = 200;
    const PER_ROUND: usize = 50;
    let dir = TempDir::new("storm");
    let log = dir.path().join("terms");
    let ready = dir.path().join("ready");
    // `wait` returns as soon as a trapped signal comes, so the trap runs at once.
    let script = format!(
        "n=0; trap 'n=$((n+1)); echo $n >> {log}; [ $n -ge {TERMS} ] && exit 42' TERM; \
         trap '' HUP USR1 USR2 WINCH ALRM URG CONT 40 50 64; \
         {BUSYBOX} sleep 1000 & touch {ready}; while :; do wait $!; done",
        log = log.display(),
        ready = ready.display()
    );
    let unshare = pid1(&script);
    wait_until("the child's handlers", Duration::from_secs(10), || ready.exists().then_some(()));
    let hardbox = wait_until("hardbox", Duration::from_secs(10), || children(unshare.id()).first().copied());
    let logged = || std::fs::read_to_string(&log).map(|text| text.lines().count()).unwrap_or(0);
    let mut sent = 0;
    for round in 1..=TERMS {
        for i in 0..PER_ROUND - 1 {
            assert!(kill(hardbox, NOISE[(round + i) % NOISE.len()]), "hardbox died in round {round}");
            sent += 1;
        }
        assert!(kill(hardbox, libc::SIGTERM) || round == TERMS, "hardbox died before TERM {round}");
        sent += 1;
        let got = wait_until(&format!("TERM {round} to reach the child"), Duration::from_secs(10), || {
            let n = logged();
            (n >= round).then_some(n)
        });
        assert_eq!(got, round, "the child got TERM {round} more than once");
    }
    let out = unshare.wait_with_output().expect("wait for unshare");
    let (_, stderr) = text(&out);
    assert_eq!(sent, 10_000);
    assert_eq!(out.status.code(), Some(42), "the child's own status passes through: {stderr}");
    assert_eq!(logged(), TERMS, "every TERM, once each");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// The command orphans 10,000 processes (each `( true & )` leaves a child
/// whose parent is gone, so it comes to PID 1) while the test fires signals
/// at hardbox; then it waits until the namespace holds no zombie.
#[test]
fn ten_thousand_orphans_under_signals_leave_no_zombie() {
    if !require_root("ten_thousand_orphans_under_signals_leave_no_zombie") {
        return;
    }
    // The noise starts once the child has ignored it (the ready file): a
    // signal before its trap would end it, and that is not what is tested.
    let dir = TempDir::new("orphans");
    let ready = dir.path().join("ready");
    let script = format!(
        "trap '' HUP USR1 USR2 WINCH ALRM URG CONT 40 50 64; : > {}; \
         i=0; while [ $i -lt 10000 ]; do ( true & ); i=$((i+1)); done; \
         n=0; while [ $n -lt 400 ]; do \
           z=$(cat /proc/[0-9]*/stat 2>/dev/null | grep -c ') Z '); \
           [ $z = 0 ] && break; sleep 0.05; n=$((n+1)); done; \
         echo $i $z",
        ready.display()
    );
    let mut unshare = pid1(&script);
    let hardbox = wait_until("hardbox", Duration::from_secs(10), || children(unshare.id()).first().copied());
    wait_until("the child's trap", Duration::from_secs(10), || ready.exists().then_some(()));
    let mut sent = 0u32;
    let deadline = Instant::now() + Duration::from_secs(90);
    while unshare.try_wait().expect("poll unshare").is_none() {
        assert!(Instant::now() < deadline, "the orphan flood did not finish");
        if kill(hardbox, NOISE[sent as usize % NOISE.len()]) {
            sent += 1;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    let out = unshare.wait_with_output().expect("wait for unshare");
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stdout.trim(), "10000 0", "orphans made, zombies left; stderr {stderr}");
    assert!(sent > 100, "signals arrived during the flood: {sent}");
    eprintln!("orphans: 10000 reaped while {sent} signals arrived");
}

const PASSWD: &str = "\
root:x:0:0:root:/root:/bin/sh
app:x:1234:1234:app:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
";
const GROUP: &str = "root:x:0:\napp:x:1234:\nnogroup:x:65534:\n";

/// The probe prints its own uid, gid and groups, by number.
fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

const PROBE: &[&str] = &["/bin/sh", "-c", "echo $(id -u) $(id -g) $(id -G)"];

fn image(tag: &str) -> Scratch {
    let image = Scratch::new(tag);
    image.write("etc/passwd", PASSWD, 0o644);
    image.write("etc/group", GROUP, 0o644);
    image
}

/// How a command is started in the image.
#[derive(Clone, Copy, Debug)]
enum Start {
    /// PID 1 of a PID namespace with /proc mounted (the image's normal life).
    Normal,
    /// As Normal, under `ulimit -n 8`.
    EightFds,
    /// No /proc at all: the image's /proc is an empty directory.
    NoProc,
    /// The image's root bind-mounted read-only.
    ReadOnly,
}

fn start(image: &Scratch, how: Start, argv: &[&str]) -> Output {
    let root = image.path().display().to_string();
    let mut cmd = match how {
        Start::Normal => image.command(argv),
        Start::EightFds => {
            let wrapped: Vec<&str> =
                ["/bin/sh", "-c", "ulimit -n 8 && exec \"$@\"", "sh"].iter().chain(argv).copied().collect();
            image.command(&wrapped)
        }
        Start::NoProc => {
            let mut cmd = Command::new("unshare");
            cmd.args(["--pid", "--fork", &format!("--root={root}"), "--"]).args(argv);
            cmd.env_clear().env("PATH", "/bin");
            cmd
        }
        Start::ReadOnly => {
            let mut cmd = Command::new("unshare");
            cmd.args(["--mount", "--", BUSYBOX, "sh", "-c"]).arg(
                "mount --bind \"$0\" \"$0\" && mount -o remount,ro,bind \"$0\" && \
                 exec \"$UNSHARE\" --pid --fork --mount-proc=/proc --root=\"$0\" -- \"$@\"",
            );
            // util-linux's, not busybox's own (which has no --root).
            let unshare = ["/usr/bin/unshare", "/bin/unshare"].into_iter().find(|p| Path::new(p).exists());
            cmd.env_clear().env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
            cmd.arg(&root).args(argv).env("UNSHARE", unshare.expect("util-linux unshare"));
            cmd
        }
    };
    cmd.stdin(Stdio::null()).output().expect("start the image")
}

/// What happened: the probe ran as `ids`, or the applet refused.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Ran(String),
    Refused(String),
}

/// Checks the rules every answer keeps, and says what the answer was.
fn outcome(applet_name: &str, case: &str, out: &Output) -> Outcome {
    let (stdout, stderr) = text(out);
    assert!(!stderr.contains("panicked"), "{case}: {stderr}");
    // busybox id's complaints about a garbage /etc/passwd are not ours.
    for line in stderr.lines().filter(|line| !line.starts_with("id: ")) {
        assert!(line.starts_with(&format!("{applet_name}: ")), "{case}: a stray line {line:?}");
    }
    match out.status.code() {
        Some(0) => Outcome::Ran(stdout.trim().to_string()),
        Some(125) => {
            assert!(stdout.is_empty(), "{case}: refused, yet the command ran: {stdout}");
            assert_eq!(stderr.lines().count(), 1, "{case}: one line: {stderr}");
            Outcome::Refused(stderr.trim().to_string())
        }
        other => panic!("{case}: status {other:?}; stdout {stdout:?}; stderr {stderr:?}"),
    }
}

/// A command that runs must run as `want`; refusing is allowed only where
/// `may_refuse`, and then must say `why`.
fn expect(applet_name: &str, case: &str, out: &Output, want: &str, may_refuse: Option<&str>) -> Outcome {
    let got = outcome(applet_name, case, out);
    match (&got, may_refuse) {
        (Outcome::Ran(ids), _) => assert_eq!(ids, want, "{case}: ran as the wrong identity"),
        (Outcome::Refused(line), Some(why)) => assert!(line.contains(why), "{case}: {line}"),
        (Outcome::Refused(line), None) => panic!("{case}: refused, but must work: {line}"),
    }
    got
}

#[test]
fn hostile_start_ups_give_a_clear_error_or_the_right_user() {
    if !require_root("hostile_start_ups_give_a_clear_error_or_the_right_user") || !require_tool("faults", "unshare") {
        return;
    }
    let image = image("faults-start");
    let mut summary = Vec::new();
    for how in [Start::Normal, Start::EightFds, Start::NoProc, Start::ReadOnly] {
        let case = |what: &str| format!("{what} ({how:?})");
        let run = |argv: &[&str]| start(&image, how, argv);
        let with_probe = |head: &[&str]| -> Vec<String> { head.iter().chain(PROBE).map(|s| s.to_string()).collect() };
        let argv = with_probe(&["/bin/dropuser", "app"]);
        let got = expect("dropuser", &case("dropuser app"), &run(&strs(&argv)), "1234 1234 1234", None);
        summary.push(format!("dropuser app, {how:?}: {got:?}"));
        let argv = with_probe(&["/bin/dhi-bootstrap", "--user", "app:nogroup"]);
        let got =
            expect("dhi-bootstrap", &case("dhi-bootstrap --user app"), &run(&strs(&argv)), "1234 65534 65534", None);
        summary.push(format!("dhi-bootstrap --user app:nogroup, {how:?}: {got:?}"));
        let argv = with_probe(&["/bin/dhi-bootstrap", "--no-drop"]);
        let got = expect("dhi-bootstrap", &case("dhi-bootstrap --no-drop"), &run(&strs(&argv)), "0 0 0", None);
        summary.push(format!("dhi-bootstrap --no-drop, {how:?}: {got:?}"));
        // A read-only root cannot take a checkpoint: refused before the run.
        let read_only = matches!(how, Start::ReadOnly).then_some("/tmp/cp");
        let path = format!("/tmp/cp-{how:?}");
        let argv = with_probe(&["/bin/checkpoint", "--path", &path]);
        let got = expect("checkpoint", &case("checkpoint"), &run(&strs(&argv)), "0 0 0", read_only);
        summary.push(format!("checkpoint, {how:?}: {got:?}"));
        let out = run(&["/bin/nsenter-lite", "-t", "1", "-u", "/bin/id", "-u"]);
        let got = expect("nsenter-lite", &case("nsenter-lite"), &out, "0", None);
        summary.push(format!("nsenter-lite -t 1 -u, {how:?}: {got:?}"));
        let out = run(&["/bin/route-add", "--list"]);
        let got = outcome("route-add", &case("route-add --list"), &out);
        summary.push(format!("route-add --list, {how:?}: {got:?}"));
    }
    eprintln!("{}", summary.join("\n"));
}

/// Lines an /etc/passwd may hold by mistake or malice. None of the users
/// they name may be become; the valid lines around them still work.
const GARBAGE: &[(&str, &str)] = &[
    ("neg", "neg:x:-1:-1::/:/bin/sh"),
    ("hex", "hex:x:0x10:0x10::/:/bin/sh"),
    ("big", "big:x:99999999999:1::/:/bin/sh"),
    ("wrap", "wrap:x:4294967296:1::/:/bin/sh"),
    ("space", "space:x: 7:7::/:/bin/sh"),
    ("plus", "plus:x:+8:8::/:/bin/sh"),
    ("emptyuid", "emptyuid:x::5::/:/bin/sh"),
    ("short", "short:x:9"),
    ("onlyname", "onlyname"),
    ("zerox", "zerox:x:0x0:0::/:/bin/sh"),
    ("trail", "trail:x:11abc:11::/:/bin/sh"),
];

#[test]
fn passwd_missing_unreadable_or_full_of_garbage() {
    if !require_root("passwd_missing_unreadable_or_full_of_garbage") || !require_tool("faults", "unshare") {
        return;
    }
    let probe = |image: &Scratch, user: &str| {
        let argv: Vec<&str> = ["/bin/dropuser", user].iter().chain(PROBE).copied().collect();
        start(image, Start::Normal, &argv)
    };
    // Missing: names cannot be found, numbers still work (as in gosu).
    let bare = Scratch::new("faults-nopasswd");
    let out = probe(&bare, "app");
    assert_refused(&out, "dropuser", "\"app\"");
    expect("dropuser", "4242 without passwd", &probe(&bare, "4242"), "4242 4242 4242", None);

    // Unreadable: a directory where the file should be.
    let unreadable = image("faults-passwd-dir");
    std::fs::remove_file(unreadable.path().join("etc/passwd")).expect("rm passwd");
    std::fs::create_dir(unreadable.path().join("etc/passwd")).expect("mkdir passwd");
    let out = probe(&unreadable, "app");
    assert_eq!(outcome("dropuser", "passwd is a directory", &out), Outcome::Refused(text(&out).1.trim().into()));
    assert!(text(&out).1.contains("app"), "{:?}", text(&out));

    // Garbage: binary junk, a 64 KiB line, broken fields; good lines between.
    let junk: String = (1u8..=255).filter(|b| *b != b'\n' && *b != b':').map(char::from).collect();
    let mut passwd = String::from("root:x:0:0:root:/root:/bin/sh\n");
    passwd.push_str(&format!("{junk}\n\n:::::::\n{}:x:1:1::/:/bin/sh\n", "a".repeat(65536)));
    for (_, line) in GARBAGE {
        passwd.push_str(line);
        passwd.push('\n');
    }
    passwd.push_str("app:x:1234:1234:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
    let garbage = image("faults-passwd-junk");
    garbage.write("etc/passwd", &passwd, 0o644);
    // The same faults in /etc/group: by name, and among app's own groups.
    let group = format!("{junk}\n{GROUP}hex:x:0x10:\nbiggrp:x:99999999999:\nwrapped:x:4294967297:app\n");
    garbage.write("etc/group", &group, 0o644);
    expect("dropuser", "app:app amid garbage", &probe(&garbage, "app:app"), "1234 1234 1234", None);
    expect("dropuser", "nobody amid garbage", &probe(&garbage, "nobody"), "65534 65534 65534", None);
    let mut became = Vec::new();
    for (user, line) in GARBAGE {
        let out = probe(&garbage, user);
        match outcome("dropuser", line, &out) {
            Outcome::Refused(_) => {}
            Outcome::Ran(ids) => became.push(format!("{line:?} ran as {ids}")),
        }
    }
    for spec in ["nobody:biggrp", "nobody:hex"] {
        if let Outcome::Ran(ids) = outcome("dropuser", spec, &probe(&garbage, spec)) {
            became.push(format!("{spec} ran as {ids}"));
        }
    }
    assert!(became.is_empty(), "a malformed passwd line was taken for a user:\n{}", became.join("\n"));
    // app's line is good, but a group that lists it is not: refused, not
    // run with a supplementary group nobody wrote.
    let out = probe(&garbage, "app");
    assert_refused(&out, "dropuser", "/etc/group");
}

/// A tmpfs of 64 KiB, filled up, in a mount namespace of its own: the run
/// that cannot be recorded exits 125 and leaves no checkpoint, partial or
/// whole. With no inode left, nothing is even started.
#[test]
fn checkpoint_on_a_full_filesystem_leaves_no_partial_record() {
    if !require_root("checkpoint_on_a_full_filesystem_leaves_no_partial_record") {
        return;
    }
    let dir = TempDir::new("faults-full");
    let mnt = dir.path().join("mnt");
    std::fs::create_dir(&mnt).expect("mkdir mnt");
    let marker = dir.path().join("ran");
    for (fill, ran) in
        [("head -c 1048576 /dev/zero > fill", true), ("i=0; while touch f$i; do i=$((i+1)); done", false)]
    {
        let _ = std::fs::remove_file(&marker);
        // Everything happens inside one mount namespace; `ls` shows what the
        // failed run left there, `checkpoint --status` what it would find.
        let script = format!(
            "cd {mnt} && mount -t tmpfs -o size=64k,nr_inodes=16 none . && cd {mnt} && {{ {fill}; }} 2>/dev/null; \
             {checkpoint} --path {mnt}/done -- touch {marker}; echo status=$?; \
             ls -A {mnt} | grep -v '^f' | tr '\\n' ' '; echo; {checkpoint} --path {mnt}/done --status; true",
            mnt = mnt.display(),
            checkpoint = applet("checkpoint").display(),
            marker = marker.display(),
        );
        let out =
            Command::new("unshare").args(["--mount", "--", BUSYBOX, "sh", "-c", &script]).output().expect("unshare");
        let (stdout, stderr) = text(&out);
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.first(), Some(&"status=125"), "{fill}: stdout {stdout:?}; stderr {stderr:?}");
        let left: Vec<&str> = lines.get(1).unwrap_or(&"").split_whitespace().filter(|f| *f != "fill").collect();
        assert!(left.iter().all(|f| f.ends_with(".lock")), "{fill}: left behind {left:?}");
        assert!(lines.get(2).is_some_and(|l| l.contains("absent")), "{fill}: {stdout:?}");
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("checkpoint: ")).collect();
        assert!(!stderr.contains("panicked") && !errors.is_empty(), "{fill}: {stderr}");
        assert!(errors.iter().any(|l| l.to_lowercase().contains("no space left")), "{fill}: says why: {stderr}");
        assert_eq!(marker.exists(), ran, "{fill}: ran the command: {}", marker.exists());
    }
}

/// Installed setuid or setgid, every applet refuses to run, whoever calls.
#[test]
fn every_applet_refuses_to_run_setuid_or_setgid() {
    if !require_root("every_applet_refuses_to_run_setuid_or_setgid") || !require_tool("faults", "setpriv") {
        return;
    }
    let dir = TempDir::new("faults-suid");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod dir");
    let copy = dir.path().join("hardbox");
    // A copy (chmod on a link would change cargo's binary), made by cp.
    assert!(Command::new("cp").arg(common::hardbox()).arg(&copy).status().expect("cp").success());
    let marker = dir.path().join("ran");
    for mode in [0o4755, 0o2755] {
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(mode)).expect("chmod");
        for (name, args) in [
            ("dropuser", vec!["nobody", "touch"]),
            ("dhi-bootstrap", vec!["--no-drop", "touch"]),
            ("checkpoint", vec!["--path", "/nonexistent/cp", "touch"]),
            ("nsenter-lite", vec!["-t", "1", "-u", "touch"]),
            ("route-add", vec!["--list"]),
        ] {
            let out = Command::new("setpriv")
                .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
                .arg(&copy)
                .arg(name)
                .args(&args)
                .arg(&marker)
                .output()
                .expect("setpriv");
            assert_refused(&out, name, "refusing to run setuid, setgid or with file capabilities");
            assert!(out.stdout.is_empty() && !Path::new(&marker).exists(), "{name} {mode:o}: ran");
        }
    }
}

/// Issue 18.4: stdout that cannot be written (`>/dev/full`) is hardbox's
/// failure, one line and 125, never the panic (134) of a print.
#[test]
fn output_to_a_full_device_is_125_never_a_crash() {
    let full = || std::fs::OpenOptions::new().write(true).open("/dev/full").expect("open /dev/full");
    let dir = TempDir::new("full");
    let record = dir.path().join("record");
    let mut cases: Vec<(String, Vec<String>)> = vec![
        ("hardbox".into(), vec!["--list".into()]),
        ("hardbox".into(), vec!["--version".into()]),
        ("hardbox".into(), vec!["--help".into()]),
        ("hardbox".into(), vec![]),
        ("checkpoint".into(), vec!["--status".into(), "--path".into(), record.display().to_string()]),
    ];
    for name in ["checkpoint", "dhi-bootstrap", "dropuser", "nsenter-lite", "route-add"] {
        cases.push((name.into(), vec!["--help".into()]));
    }
    for (name, args) in &cases {
        let out = Command::new(applet(name)).args(args).stdout(full()).output().unwrap();
        assert_refused(&out, name, "cannot write to stdout: no space left on device");
    }
}
