//! Support shared by the integration tests: the built binary under its
//! applet names, temporary directories, network namespaces, and the rule
//! that a privileged test under CI must run, never skip.
#![allow(dead_code)]

pub mod scratch;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The binary under test: HARDBOX_RELEASE_BIN when set (scripts/test.sh sets
/// it to the shipped binary for the whole suite, and to the stable
/// `cargo build --release` one for a second run of tests/multicall.rs), else
/// the one cargo built for these tests (static musl too, see
/// .cargo/config.toml).
pub fn hardbox() -> PathBuf {
    match std::env::var_os("HARDBOX_RELEASE_BIN") {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => PathBuf::from(env!("CARGO_BIN_EXE_hardbox")),
    }
}

/// A directory holding a copy of hardbox and one link per applet, made by
/// `hardbox --install` itself. Shared by all tests of one test binary.
pub fn bin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = scratch_root().join(format!("bin-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create bin dir");
        place_hardbox(&dir.join("hardbox"));
        let out = Command::new(dir.join("hardbox")).arg("--install").arg(&dir).output().expect("run --install");
        assert!(out.status.success(), "--install failed: {}", String::from_utf8_lossy(&out.stderr));
        dir
    })
}

/// Puts the binary at `dest` by hard link (a copy when across filesystems).
/// A copy's write descriptor can leak into a child another test thread is
/// forking, and exec of a file open for writing fails with ETXTBSY; a link
/// opens nothing for writing.
pub fn place_hardbox(dest: &Path) {
    place_executable(&hardbox(), dest);
}

/// Puts an executable at `dest`: a hard link, or a copy written by `cp` so
/// that no descriptor open for writing ever lives in the test process.
pub fn place_executable(src: &Path, dest: &Path) {
    if std::fs::hard_link(src, dest).is_ok() {
        return;
    }
    let status = Command::new("cp").arg(src).arg(dest).status().expect("run cp");
    assert!(status.success(), "cp {} {}", src.display(), dest.display());
}

/// The path of an applet link, e.g. `applet("route-add")`.
pub fn applet(name: &str) -> PathBuf {
    bin_dir().join(name)
}

/// Where tests keep their temporary files: under target/, so a failed run
/// leaves nothing in the host's /tmp.
pub fn scratch_root() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(&root).expect("create CARGO_TARGET_TMPDIR");
    root
}

/// A directory removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let path = scratch_root().join(format!("{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// True when the test may do privileged things. Outside CI a non-root run
/// skips with a line saying so; under CI (CI set) a skip is a failure.
pub fn require_root(test: &str) -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("{test}: needs root, and CI must run every privileged test");
    }
    eprintln!("SKIPPED {test}: needs root");
    false
}

/// True when `program` is on PATH. Under CI a missing tool is a failure: the
/// CI script installs every tool the tests use.
pub fn require_tool(test: &str, program: &str) -> bool {
    let found = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
        .unwrap_or(false);
    if found {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("{test}: {program} is not installed, and CI must run every test");
    }
    eprintln!("SKIPPED {test}: {program} is not installed");
    false
}

/// A network namespace made for one test with `ip netns add`, removed on drop.
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new() -> Netns {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!("hbt-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
        let out = Command::new("ip").args(["netns", "add", &name]).output().expect("run ip netns add");
        assert!(out.status.success(), "ip netns add {name}: {}", String::from_utf8_lossy(&out.stderr));
        let ns = Netns { name };
        ns.sh("ip link set lo up");
        ns
    }

    /// Runs a program inside the namespace.
    pub fn run<I, S>(&self, program: impl AsRef<std::ffi::OsStr>, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        Command::new("ip")
            .args(["netns", "exec", &self.name])
            .arg(program)
            .args(args)
            .output()
            .expect("run ip netns exec")
    }

    /// Runs a shell line inside the namespace and insists that it succeeds.
    pub fn sh(&self, script: &str) -> String {
        let out = self.run("sh", ["-c", script]);
        assert!(out.status.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The whole routing table, as iproute2 sees it (the oracle).
    pub fn routes(&self) -> String {
        self.sh("ip -j route show table all; ip -6 -j route show table all")
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.name]).output();
    }
}

/// stdout and stderr as text, for assertions and failure messages.
pub fn text(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Asserts DESIGN.md's rule for a refused input: exit 125 and exactly one
/// line on stderr, prefixed with the applet, that mentions `needle`.
pub fn assert_refused(out: &Output, applet: &str, needle: &str) {
    let (_, err) = text(out);
    assert_eq!(out.status.code(), Some(125), "want 125; stderr: {err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "want one line on stderr, got: {err:?}");
    assert!(lines[0].starts_with(&format!("{applet}: ")), "line names the applet: {err:?}");
    assert!(lines[0].contains(needle), "line mentions {needle:?}: {err:?}");
    assert!(!err.contains("panicked"), "no panic: {err}");
}

/// The children of `pid`, found through each process's stat (the
/// `children` file is not in every kernel).
pub fn children(pid: u32) -> Vec<u32> {
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

/// Polls `probe` until it gives a value; fails the test after `limit`.
pub fn wait_until<T>(what: &str, limit: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}
