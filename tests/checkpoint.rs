//! checkpoint: runs once, skips after, records atomically, holds up under
//! concurrency and SIGKILL, loops with --interval, resolves FILE in another
//! process's root, and stands in for the startup-script image.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;

fn checkpoint() -> Command {
    let mut cmd = Command::new(applet("checkpoint"));
    for var in ["STARTUP_SCRIPT", "CHECKPOINT_PATH", "CHECKPOINT_INTERVAL", "HARDBOX_LOG"] {
        cmd.env_remove(var);
    }
    cmd
}

fn run(args: &[&str]) -> Output {
    checkpoint().args(args).output().expect("run checkpoint")
}

/// A shell command that appends a line to `log`: how many times it ran.
fn append(log: &Path) -> String {
    format!("echo ran >> {}", log.display())
}

fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |text| text.lines().count())
}

/// md5sum's answer, the oracle for the file names.
fn md5sum(input: &[u8]) -> String {
    let mut child = Command::new("md5sum").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("md5sum");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), input).expect("feed md5sum");
    let out = child.wait_with_output().expect("md5sum");
    String::from_utf8_lossy(&out.stdout)[..32].to_string()
}

fn unique(tag: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!("{tag}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

fn signal(child: &Child, sig: nix::sys::signal::Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), sig).expect("signal our child");
}

fn wait_for(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether a file is a whole record as DESIGN's format writes it: six lines,
/// the last a check line. Written independently of the parser under test.
fn whole_record(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().collect();
    text.ends_with('\n')
        && lines.len() == 6
        && lines[0] == "hardbox-checkpoint 1"
        && lines[5].strip_prefix("check ").is_some_and(|h| h.len() == 32)
        && md5sum(text[..text.len() - lines[5].len() - 1].as_bytes()) == lines[5][6..]
}

#[test]
fn runs_once_then_skips_and_records_the_run() {
    let dir = TempDir::new("cp-once");
    let (log, file) = (dir.path().join("log"), dir.path().join("done"));
    let script = append(&log);
    let args = ["--path", file.to_str().unwrap(), "--", "sh", "-c", &script];
    let first = run(&args);
    assert_eq!(first.status.code(), Some(0), "{:?}", text(&first));
    assert_eq!(lines(&log), 1);
    let record = std::fs::read(&file).expect("checkpoint written");
    assert!(whole_record(&record), "{}", String::from_utf8_lossy(&record));
    let record = String::from_utf8_lossy(&record);
    let key = md5sum(format!("sh\0-c\0{script}").as_bytes());
    assert!(record.contains(&format!("\nkey {key}\n")), "records md5 of the key: {record}");
    assert!(record.contains("\ncommand sh -c \"echo ran >> "), "records the command: {record}");

    let second = run(&args);
    let (_, err) = text(&second);
    assert_eq!(second.status.code(), Some(0), "{err}");
    assert_eq!(lines(&log), 1, "second run skipped");
    assert!(err.contains("checkpoint: already done at 20"), "{err}");
    assert!(!dir.path().join("done.tmp").exists(), "no temporary file left");
}

#[test]
fn a_changed_key_or_command_runs_again() {
    let dir = TempDir::new("cp-key");
    let (log, file) = (dir.path().join("log"), dir.path().join("done"));
    let script = append(&log);
    for key in ["one", "one", "two"] {
        let out = run(&["--path", file.to_str().unwrap(), "--key", key, "sh", "-c", &script]);
        assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    }
    assert_eq!(lines(&log), 2, "key one ran once, key two once");

    // The default path is /tmp/checkpoint_ + md5 of the command line, here
    // inside --root, so that a changed command line has its own checkpoint.
    std::fs::create_dir(dir.path().join("tmp")).unwrap();
    let root = dir.path().to_str().unwrap();
    for extra in ["a", "a", "b"] {
        let out = run(&["--root", root, "sh", "-c", &script, "sh", extra]);
        assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
        let name = format!("checkpoint_{}", md5sum(format!("sh\0-c\0{script}\0sh\0{extra}").as_bytes()));
        assert!(dir.path().join("tmp").join(name).is_file(), "default name for {extra}");
    }
    assert_eq!(lines(&log), 4, "a ran once, b once");
}

#[test]
fn a_failing_command_writes_nothing_and_passes_its_status() {
    let dir = TempDir::new("cp-fail");
    let file = dir.path().join("done");
    let out = run(&["--path", file.to_str().unwrap(), "sh", "-c", "exit 7"]);
    assert_eq!(out.status.code(), Some(7));
    assert!(!file.exists());
    let out = run(&["--path", file.to_str().unwrap(), "sh", "-c", "kill -9 $$"]);
    assert_eq!(out.status.code(), Some(128 + 9), "death by SIGKILL is 137");
    assert!(!file.exists());
    let out = run(&["--path", file.to_str().unwrap(), "no-such-command-hbt"]);
    assert_eq!(out.status.code(), Some(127));
    assert!(!file.exists());
    assert!(!dir.path().join("done.tmp").exists(), "no temporary file left");
}

#[test]
fn ten_concurrent_runners_run_the_command_once() {
    let dir = TempDir::new("cp-ten");
    let (log, file) = (dir.path().join("log"), dir.path().join("done"));
    let script = format!("{}; sleep 0.3", append(&log));
    let runners: Vec<Child> = (0..10)
        .map(|_| {
            checkpoint()
                .args(["--path", file.to_str().unwrap(), "sh", "-c", &script])
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for runner in runners {
        let out = runner.wait_with_output().expect("wait");
        assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    }
    assert_eq!(lines(&log), 1, "ran exactly once");
}

#[test]
fn sigkill_at_any_point_never_leaves_a_checkpoint_taken_for_valid() {
    let dir = TempDir::new("cp-kill");
    let file = dir.path().join("done");
    let marker = dir.path().join("completed");
    let script = format!("touch {}", marker.display());
    let args = ["--path", file.to_str().unwrap(), "--", "sh", "-c", &script];
    // How long a whole run takes here (the quickest of three), to spread the
    // kills across a run.
    let span = (0..3)
        .map(|_| {
            let _ = std::fs::remove_file(&file);
            let start = Instant::now();
            assert_eq!(run(&args).status.code(), Some(0));
            start.elapsed().as_micros() as u64 + 1
        })
        .min()
        .unwrap();
    let mut seed = u64::from(std::process::id()) | 1;
    let mut recorded = 0;
    for _ in 0..60 {
        let _ = std::fs::remove_file(&file);
        let _ = std::fs::remove_file(&marker);
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut child = checkpoint().args(args).stderr(Stdio::null()).spawn().expect("spawn");
        std::thread::sleep(Duration::from_micros(seed % span));
        let _ = child.kill();
        let _ = child.wait();
        let status = run(&["--status", "--path", file.to_str().unwrap(), "--", "sh", "-c", &script]);
        match status.status.code() {
            Some(0) => {
                recorded += 1;
                assert!(marker.exists(), "a checkpoint was taken for valid, but the command never completed");
                assert!(whole_record(&std::fs::read(&file).unwrap()), "a partial file was taken for valid");
            }
            Some(1) => {
                if let Ok(bytes) = std::fs::read(&file) {
                    assert!(!whole_record(&bytes), "a whole record was refused");
                }
            }
            other => panic!("--status gave {other:?}: {:?}", text(&status)),
        }
    }
    eprintln!("{recorded} of 60 killed runs had recorded");

    // Torn copies of a real record, as a crash without the rename would leave.
    assert_eq!(run(&args).status.code(), Some(0));
    let whole = std::fs::read(&file).unwrap();
    for len in [1, 20, whole.len() / 2, whole.len() - 34, whole.len() - 1] {
        std::fs::write(&file, &whole[..len]).unwrap();
        let _ = std::fs::remove_file(&marker);
        let out = run(&args);
        assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
        assert!(marker.exists(), "a record torn at {len} bytes was taken for valid");
        assert_eq!(std::fs::read(&file).unwrap().len(), whole.len(), "and replaced by a whole one");
    }
}

#[test]
fn interval_runs_again_when_the_checkpoint_goes_and_sigterm_ends_it_fast() {
    let dir = TempDir::new("cp-interval");
    let (log, file) = (dir.path().join("log"), dir.path().join("done"));
    let script = append(&log);
    let child = checkpoint()
        .args(["--interval", "1", "--path", file.to_str().unwrap(), "sh", "-c", &script])
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    wait_for("the first run", Duration::from_secs(5), || file.exists());
    assert_eq!(lines(&log), 1);
    std::fs::remove_file(&file).unwrap();
    wait_for("the run after removal", Duration::from_secs(5), || file.exists());
    assert_eq!(lines(&log), 2, "ran again once the checkpoint had gone");
    // Now it sleeps between checks.
    std::thread::sleep(Duration::from_millis(200));
    let start = Instant::now();
    signal(&child, nix::sys::signal::Signal::SIGTERM);
    let out = child.wait_with_output().expect("wait");
    assert!(start.elapsed() < Duration::from_secs(1), "took {:?}", start.elapsed());
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    assert_eq!(lines(&log), 2);
}

#[test]
fn interval_retries_a_failed_run() {
    let dir = TempDir::new("cp-retry");
    let (log, file) = (dir.path().join("log"), dir.path().join("done"));
    // Fails the first time, succeeds the second.
    let script = format!("{}; [ $(wc -l < {}) -ge 2 ]", append(&log), log.display());
    let child = checkpoint()
        .args(["--interval", "1", "--path", file.to_str().unwrap(), "sh", "-c", &script])
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    wait_for("the retry", Duration::from_secs(5), || file.exists());
    signal(&child, nix::sys::signal::Signal::SIGINT);
    let out = child.wait_with_output().expect("wait");
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(lines(&log), 2);
    assert!(err.contains("failed with status 1; retrying in 1s"), "{err}");
}

#[test]
fn status_and_remove() {
    let dir = TempDir::new("cp-status");
    let file = dir.path().join("done");
    let path = file.to_str().unwrap();
    let out = run(&["--status", "--path", path, "true"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out).0, format!("{path}: absent\n"));
    assert_eq!(run(&["--path", path, "true"]).status.code(), Some(0));
    let out = run(&["--status", "--path", path, "true"]);
    assert_eq!(out.status.code(), Some(0));
    let (stdout, _) = text(&out);
    assert!(
        stdout.starts_with(&format!("{path}: done at 20")) && stdout.ends_with("by hardbox 0.1.0: true\n"),
        "{stdout}"
    );
    let out = run(&["--status", "--path", path, "false"]);
    assert_eq!(out.status.code(), Some(1), "another key is not this checkpoint");
    let out = run(&["--remove", "--path", path, "false"]);
    assert_refused(&out, "checkpoint", "records another key");
    assert!(file.exists(), "another key's checkpoint is kept");
    let out = run(&["--remove", "--path", path]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    assert!(!file.exists());
    assert_eq!(run(&["--status", "--path", path]).status.code(), Some(1));
}

/// Issue 18.5: no component of the path is followed as a link, in our own
/// root or another: a link planted in a shared directory cannot send root's
/// write elsewhere, and `..` still stops at a foreign root.
#[test]
fn symbolic_links_are_never_followed_in_any_root() {
    let dir = TempDir::new("cp-links");
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("real")).unwrap();
    std::os::unix::fs::symlink("/real", root.join("tmp")).unwrap();
    std::os::unix::fs::symlink("../../../../../../../real", root.join("up")).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", root.join("real/linked")).unwrap();
    let root_arg = root.to_str().unwrap();
    let marker = dir.path().join("ran");
    let touch = format!("touch {}", marker.display());
    for (path, needle) in
        [("/tmp/done", "symbolic link"), ("/up/done2", "symbolic link"), ("/real/linked", "symbolic link")]
    {
        let out = run(&["--root", root_arg, "--path", path, "sh", "-c", &touch]);
        assert_refused(&out, "checkpoint", needle);
        assert!(!marker.exists(), "{path}: the command never ran");
    }
    let written: Vec<_> = std::fs::read_dir(root.join("real"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name != "linked" && !name.ends_with(".lock"))
        .collect();
    assert!(written.is_empty(), "nothing written through a link: {written:?}");
    // `..` stays inside the root, and a real path there works.
    let out = run(&["--root", root_arg, "--path", "/../../real/done", "true"]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    assert!(root.join("real/done").is_file());
}

/// Runs a shell line as nobody (the other user on the host).
fn as_nobody(script: &str) {
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--", "sh", "-c", script])
        .output()
        .unwrap();
    assert!(out.status.success(), "{script}: {:?}", text(&out));
}

/// Issue 18.5, reproduced: nobody plants `shared/state -> victim` in a
/// sticky directory; root's checkpoint must not make `victim/important`.
/// And a file there that is no record is never replaced.
#[test]
fn a_link_planted_in_a_sticky_directory_is_refused() {
    if !require_root("a_link_planted_in_a_sticky_directory_is_refused") || !require_tool("sticky", "setpriv") {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("cp-sticky");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let (shared, victim) = (dir.path().join("shared"), dir.path().join("victim"));
    std::fs::create_dir(&shared).unwrap();
    std::fs::create_dir(&victim).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    as_nobody(&format!("ln -s {} {}/state", victim.display(), shared.display()));
    let marker = dir.path().join("ran");
    let touch = format!("touch {}", marker.display());
    let planted = shared.join("state/important");
    let out = run(&["--path", planted.to_str().unwrap(), "--", "sh", "-c", &touch]);
    assert_refused(&out, "checkpoint", "symbolic link");
    assert!(!victim.join("important").exists(), "no record written through the planted link");
    assert!(!marker.exists(), "the command never ran");

    // A file that is not a checkpoint record is someone's: never replaced.
    let important = victim.join("important");
    for content in [&b"root:x:0:0::/root:/bin/sh\n"[..], b""] {
        std::fs::write(&important, content).unwrap();
        let out = run(&["--path", important.to_str().unwrap(), "--", "sh", "-c", &touch]);
        assert_refused(&out, "checkpoint", "is not a checkpoint record");
        assert!(text(&out).1.contains(important.to_str().unwrap()), "names it: {:?}", text(&out));
        assert_eq!(std::fs::read(&important).unwrap(), content, "left as it was");
        assert!(!marker.exists(), "the command never ran");
    }
}

/// Issue 18.6: a lock or record another user owns is theirs to hold or
/// forge: refused, naming the owner, before the command runs.
#[test]
fn a_lock_or_record_owned_by_another_user_is_refused() {
    if !require_root("a_lock_or_record_owned_by_another_user_is_refused") {
        return;
    }
    let dir = TempDir::new("cp-owner");
    let file = dir.path().join("done");
    let marker = dir.path().join("ran");
    let touch = format!("touch {}", marker.display());
    let args = ["--path", file.to_str().unwrap(), "--", "sh", "-c", &touch];
    assert_eq!(run(&args[..4]).status.code(), Some(0), "a record of ours");
    for planted in [dir.path().join("done.lock"), file.clone()] {
        std::os::unix::fs::chown(&planted, Some(65534), Some(65534)).unwrap();
        let _ = std::fs::remove_file(&marker);
        let out = run(&args);
        assert_refused(&out, "checkpoint", "owned by uid 65534");
        assert!(text(&out).1.contains(planted.to_str().unwrap()), "names it: {:?}", text(&out));
        assert!(!marker.exists(), "the command never ran");
        std::os::unix::fs::chown(&planted, Some(0), Some(0)).unwrap();
    }
}

/// A stand-in for a node: new mount, UTS and PID namespaces, a private
/// tmpfs on /tmp and its own hostname, sharing the host's root (and so its
/// /bin/bash). Killed on drop.
struct Target {
    unshare: Child,
    pid: i32,
    hostname: String,
}

impl Target {
    fn new() -> Target {
        let hostname = unique("hbt");
        // A private /run too: startup-script mode keeps its lock there.
        let setup = format!(
            "mount -t tmpfs tmpfs /tmp && mount -t tmpfs tmpfs /run && hostname {hostname} && echo ready && exec sleep 120"
        );
        let mut unshare = Command::new("unshare")
            .args(["-m", "-u", "-p", "--fork", "--mount-proc", "sh", "-c", &setup])
            .stdout(Stdio::piped())
            // unshare complains when its child dies of the SIGKILL that ends the test.
            .stderr(Stdio::null())
            .spawn()
            .expect("run unshare");
        let mut ready = String::new();
        BufReader::new(unshare.stdout.take().unwrap()).read_line(&mut ready).unwrap();
        assert_eq!(ready, "ready\n", "target set up");
        let id = unshare.id();
        let children = std::fs::read_to_string(format!("/proc/{id}/task/{id}/children")).unwrap();
        let pid = children.trim().parse().expect("one child: the target");
        Target { unshare, pid, hostname }
    }

    fn tmp(&self) -> PathBuf {
        PathBuf::from(format!("/proc/{}/root/tmp", self.pid))
    }

    fn run_dir(&self) -> PathBuf {
        PathBuf::from(format!("/proc/{}/root/run", self.pid))
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid), nix::sys::signal::Signal::SIGKILL);
        let _ = self.unshare.wait();
    }
}

#[test]
fn target_puts_the_checkpoint_in_the_targets_root() {
    if !require_root("target_puts_the_checkpoint_in_the_targets_root") || !require_tool("target", "unshare") {
        return;
    }
    let target = Target::new();
    let key = unique("key");
    let name = format!("checkpoint_{}", md5sum(key.as_bytes()));
    let out = run(&["--target", &target.pid.to_string(), "--key", &key, "true"]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    assert!(target.tmp().join(&name).is_file(), "in the target's /tmp");
    assert!(!Path::new("/tmp").join(&name).exists(), "not in ours");
    let out = run(&["--status", "--target", &target.pid.to_string(), "--key", &key]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
}

/// Runs startup-script mode against the target until the checkpoint (in the
/// target's /tmp, under `name` or the default one) appears, or `wait` runs
/// out; then SIGTERMs it.
fn startup_script(target: &Target, script: &str, name: Option<&str>, wait: Duration) -> (Output, Duration) {
    let mut cmd = checkpoint();
    cmd.args(["--target", &target.pid.to_string()]).env("STARTUP_SCRIPT", script).env("CHECKPOINT_INTERVAL", "1");
    if let Some(name) = name {
        cmd.env("CHECKPOINT_PATH", format!("/tmp/{name}"));
    }
    let mut child = cmd.stderr(Stdio::piped()).spawn().expect("spawn");
    let default = format!("startup-script.kubernetes.io_{}", md5sum(format!("{script}\n").as_bytes()));
    let name = name.unwrap_or(&default);
    let start = Instant::now();
    while start.elapsed() < wait && !target.tmp().join(name).exists() {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGTERM);
    let stop = Instant::now();
    let out = child.wait_with_output().expect("wait");
    (out, stop.elapsed())
}

#[test]
fn startup_script_runs_in_the_targets_namespaces_once() {
    if !require_root("startup_script_runs_in_the_targets_namespaces_once") || !require_tool("startup", "bash") {
        return;
    }
    let target = Target::new();
    let script = "hostname > /tmp/seen; echo $$ > /tmp/pid; echo x >> /tmp/runs";
    // The image's own spelling of the default path, as the oracle.
    let expected = Command::new("bash")
        .args(["-c", r#"echo "/tmp/startup-script.kubernetes.io_$(md5sum <<<"$STARTUP_SCRIPT" | cut -c-32)""#])
        .env("STARTUP_SCRIPT", script)
        .output()
        .unwrap();
    let expected = String::from_utf8_lossy(&expected.stdout).trim().to_string();
    let (out, stopping) = startup_script(&target, script, None, Duration::from_secs(5));
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(stopping < Duration::from_secs(1), "SIGTERM took {stopping:?}");
    assert!(err.contains("startup-script succeeded!"), "{err}");
    let root = PathBuf::from(format!("/proc/{}/root", target.pid));
    assert!(root.join(expected.trim_start_matches('/')).is_file(), "{expected} in the target's root: {err}");
    let seen = std::fs::read_to_string(target.tmp().join("seen")).unwrap();
    assert_eq!(seen.trim(), target.hostname, "ran in the target's UTS namespace");
    let pid: i32 = std::fs::read_to_string(target.tmp().join("pid")).unwrap().trim().parse().unwrap();
    assert!(pid < 100, "ran in the target's PID namespace (pid {pid})");
    assert_eq!(lines(&target.tmp().join("runs")), 1, "once, however many intervals passed");
    // Issue 18.6: the lock is in the target's /run, where only root creates
    // files, and named after the record's whole path; none in the shared /tmp.
    let lock = format!("hardbox-checkpoint_{}.lock", md5sum(expected.as_bytes()));
    assert!(target.run_dir().join(&lock).is_file(), "{lock} in the target's /run");
    let in_tmp: Vec<_> = std::fs::read_dir(target.tmp()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(!in_tmp.iter().any(|n| n.to_string_lossy().ends_with(".lock")), "no lock in /tmp: {in_tmp:?}");
}

/// Issue 18.6: a runner holding the lock delays startup-script mode by at
/// most the interval, and the wait is said; a lock someone else owns is
/// refused with a message that says where it is, ungarbled.
#[test]
fn startup_script_bounds_its_wait_for_the_lock_and_says_so() {
    if !require_root("startup_script_bounds_its_wait_for_the_lock_and_says_so") || !require_tool("lock", "flock") {
        return;
    }
    let target = Target::new();
    let script = format!("echo x >> /tmp/runs; : {}", unique("bound"));
    let record = format!("/tmp/startup-script.kubernetes.io_{}", md5sum(format!("{script}\n").as_bytes()));
    let lock = target.run_dir().join(format!("hardbox-checkpoint_{}.lock", md5sum(record.as_bytes())));
    let mut holder = Command::new("flock").arg(&lock).args(["sleep", "30"]).spawn().expect("flock");
    wait_for("the holder's lock", Duration::from_secs(5), || lock.exists());
    std::thread::sleep(Duration::from_millis(100));
    let mut child = checkpoint()
        .args(["--target", &target.pid.to_string()])
        .env("STARTUP_SCRIPT", &script)
        .env("CHECKPOINT_INTERVAL", "1")
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(2500));
    signal(&child, nix::sys::signal::Signal::SIGTERM);
    let _ = child.stdout.take();
    let out = child.wait_with_output().expect("wait");
    let _ = holder.kill();
    let _ = holder.wait();
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("another runner holds it"), "says it waits: {err}");
    assert!(err.contains("still held by another runner after 1s"), "bounded by the interval: {err}");
    assert!(!target.tmp().join("runs").exists(), "never ran without the lock");

    std::os::unix::fs::chown(&lock, Some(65534), Some(65534)).unwrap();
    let out = checkpoint()
        .args(["--target", &target.pid.to_string()])
        .env("STARTUP_SCRIPT", &script)
        .env("HARDBOX_LOG", "quiet")
        .output()
        .unwrap();
    let shown =
        format!("/run/hardbox-checkpoint_{}.lock in the root of process {}", md5sum(record.as_bytes()), target.pid);
    assert_refused(&out, "checkpoint", &format!("the lock {shown}: owned by uid 65534"));
    assert!(!target.tmp().join("runs").exists(), "the script never ran");
}

#[test]
fn startup_script_honours_a_touched_checkpoint_and_exits_1_on_failure() {
    if !require_root("startup_script_honours_a_touched_checkpoint_and_exits_1_on_failure") {
        return;
    }
    let target = Target::new();
    let script = "echo x >> /tmp/runs";
    let name = format!("startup-script.kubernetes.io_{}", md5sum(format!("{script}\n").as_bytes()));
    std::fs::write(target.tmp().join(&name), b"").unwrap();
    let (out, _) = startup_script(&target, script, None, Duration::from_millis(1500));
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("already done"), "{err}");
    assert!(!target.tmp().join("runs").exists(), "a touched checkpoint is honoured");

    // CHECKPOINT_PATH names it instead.
    let (out, _) = startup_script(&target, script, Some("custom"), Duration::from_secs(5));
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    assert_eq!(lines(&target.tmp().join("runs")), 1, "ran: CHECKPOINT_PATH is another checkpoint");
    assert!(target.tmp().join("custom").is_file());

    let out = checkpoint()
        .args(["--target", &target.pid.to_string()])
        .env("STARTUP_SCRIPT", "echo x >> /tmp/failed; exit 3")
        .output()
        .unwrap();
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("startup-script failed! exit code '3'"), "{err}");
    assert_eq!(lines(&target.tmp().join("failed")), 1);
    let written: Vec<_> = std::fs::read_dir(target.tmp()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(
        !written.iter().any(|n| n.to_string_lossy().starts_with("startup-script")
            && !n.to_string_lossy().ends_with(".lock")
            && *n != *name),
        "no checkpoint for the failed script: {written:?}"
    );
}

#[test]
fn bad_input_is_refused_before_the_command_runs() {
    let dir = TempDir::new("cp-bad");
    let marker = dir.path().join("ran");
    let touch = format!("touch {}", marker.display());
    let file = dir.path().join("done");
    let path = file.to_str().unwrap();
    let pid_max = std::fs::read_to_string("/proc/sys/kernel/pid_max").unwrap();
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let cases: [(&[&str], &str); 6] = [
        (&["--path", sub.to_str().unwrap()], "is a directory"),
        (&["--path", path, "--interval", "0"], "--interval"),
        (&["--path", path, "--interval", "soon"], "--interval"),
        (&["--target", pid_max.trim()], "no such process"),
        (&["--path", "/nonexistent-hbt/done"], "does not exist"),
        (&["--target", "1", "--root", "/"], "exclude"),
    ];
    for (args, needle) in cases {
        let mut all = args.to_vec();
        all.extend(["sh", "-c", &touch]);
        assert_refused(&run(&all), "checkpoint", needle);
        assert!(!marker.exists(), "{args:?}: the command did not run");
    }
    let out =
        checkpoint().arg("--path").arg(path).env("CHECKPOINT_INTERVAL", "x").env("STARTUP_SCRIPT", "true").output();
    assert_refused(&out.unwrap(), "checkpoint", "CHECKPOINT_INTERVAL=x");
    assert_refused(&run(&[]), "checkpoint", "no command");
}

#[test]
fn an_unwritable_directory_is_refused_before_the_command_runs() {
    if !require_root("an_unwritable_directory_is_refused_before_the_command_runs") || !require_tool("ro", "unshare") {
        return;
    }
    // Root writes anywhere, except on a read-only mount: make one, privately.
    let dir = TempDir::new("cp-ro");
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    let marker = dir.path().join("ran");
    let inner = format!(
        "mount --bind -o ro {ro} {ro} && exec {cp} --path {ro}/done -- touch {marker}",
        ro = ro.display(),
        cp = applet("checkpoint").display(),
        marker = marker.display()
    );
    let out = Command::new("unshare").args(["-m", "sh", "-c", &inner]).output().unwrap();
    assert_refused(&out, "checkpoint", "read-only file system");
    assert!(!marker.exists(), "the command did not run");
}

#[test]
fn sigterm_reaches_the_running_command_first() {
    let dir = TempDir::new("cp-forward");
    let (log, file, started) = (dir.path().join("log"), dir.path().join("done"), dir.path().join("started"));
    let script = format!(
        "trap 'echo got TERM >> {log}; exit 0' TERM; touch {started}; while :; do sleep 0.05; done",
        log = log.display(),
        started = started.display()
    );
    // --interval: the command handles SIGTERM and succeeds: recorded, exit 0.
    let child = checkpoint()
        .args(["--interval", "30", "--path", file.to_str().unwrap(), "sh", "-c", &script])
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    wait_for("the command to start", Duration::from_secs(5), || started.exists());
    let start = Instant::now();
    signal(&child, nix::sys::signal::Signal::SIGTERM);
    let out = child.wait_with_output().expect("wait");
    assert!(start.elapsed() < Duration::from_secs(1), "took {:?}", start.elapsed());
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "got TERM\n", "forwarded to the command");
    assert!(file.exists(), "its success was recorded");

    // Run once: a command that dies of the forwarded SIGTERM passes 143 on.
    let _ = std::fs::remove_file(&started);
    let other = dir.path().join("other");
    let child = checkpoint()
        .args(["--path", other.to_str().unwrap(), "sh", "-c", &format!("touch {}; exec sleep 30", started.display())])
        .spawn()
        .expect("spawn");
    wait_for("the command to start", Duration::from_secs(5), || started.exists());
    std::thread::sleep(Duration::from_millis(50));
    signal(&child, nix::sys::signal::Signal::SIGTERM);
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(128 + 15));
    assert!(!other.exists());
}

#[test]
fn startup_script_refuses_to_target_itself() {
    if !require_root("startup_script_refuses_to_target_itself") || !require_tool("self", "unshare") {
        return;
    }
    // A pod without hostPID: checkpoint is PID 1 of its own namespace.
    let dir = TempDir::new("cp-self");
    let marker = dir.path().join("ran");
    let out = Command::new("unshare")
        .args(["-p", "--fork", "--mount-proc"])
        .arg(applet("checkpoint"))
        .env("STARTUP_SCRIPT", format!("touch {}", marker.display()))
        .env_remove("CHECKPOINT_PATH")
        .output()
        .unwrap();
    assert_refused(&out, "checkpoint", "hostPID");
    assert!(!marker.exists());
}

#[test]
fn the_command_inherits_no_descriptor_of_ours() {
    let dir = TempDir::new("cp-fds");
    let list = "ls /proc/$$/fd";
    let direct = Command::new("sh").args(["-c", list]).stdin(Stdio::null()).output().unwrap();
    assert!(text(&direct).0.starts_with("0\n1\n"), "{:?}", text(&direct));
    let out = checkpoint()
        .args(["--path", dir.path().join("done").to_str().unwrap(), "sh", "-c", list])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    assert_eq!(text(&out).0, text(&direct).0, "the same descriptors as without checkpoint");

    if !require_root("the_command_inherits_no_descriptor_of_ours") {
        return;
    }
    let target = Target::new();
    let out = checkpoint()
        .args(["--target", &target.pid.to_string()])
        .env("STARTUP_SCRIPT", format!("{list}; exit 9"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{:?}", text(&out));
    assert_eq!(text(&out).0, text(&direct).0, "startup-script mode too, after entering namespaces");
}
