//! Entering another process's namespaces: `pidfd_open` and one atomic
//! `setns(pidfd, kinds)` on Linux 5.8 and later; before that, the
//! `/proc/PID/ns/*` files, all opened first, then entered in util-linux's
//! order.
//!
//! The PID namespace is special: `setns` only decides where the caller's
//! future children are born, so a caller that entered one must fork (for
//! instance with `supervise::supervise`) for the command to live in it.

use std::fs::File;
use std::ops::BitOr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use nix::errno::Errno;
use nix::unistd::{Gid, Uid};

use crate::error::{Error, Result};

/// What entering takes; the kernel says only "operation not permitted".
const EPERM_FIX: &str = "needs CAP_SYS_ADMIN, and CAP_SYS_CHROOT for -m, CAP_SYS_PTRACE when the target has more \
                             capabilities: run privileged, with --pid=host for the host";

/// A set of namespace types, as the kernel's CLONE_NEW* flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kinds(libc::c_int);

impl Kinds {
    pub const NONE: Kinds = Kinds(0);
    pub const USER: Kinds = Kinds(libc::CLONE_NEWUSER);
    pub const CGROUP: Kinds = Kinds(libc::CLONE_NEWCGROUP);
    pub const IPC: Kinds = Kinds(libc::CLONE_NEWIPC);
    pub const UTS: Kinds = Kinds(libc::CLONE_NEWUTS);
    pub const NET: Kinds = Kinds(libc::CLONE_NEWNET);
    pub const PID: Kinds = Kinds(libc::CLONE_NEWPID);
    pub const MNT: Kinds = Kinds(libc::CLONE_NEWNS);
    pub const TIME: Kinds = Kinds(libc::CLONE_NEWTIME);
    pub const ALL: Kinds = Kinds(
        libc::CLONE_NEWUSER
            | libc::CLONE_NEWCGROUP
            | libc::CLONE_NEWIPC
            | libc::CLONE_NEWUTS
            | libc::CLONE_NEWNET
            | libc::CLONE_NEWPID
            | libc::CLONE_NEWNS
            | libc::CLONE_NEWTIME,
    );

    pub fn contains(self, other: Kinds) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The names as /proc/PID/ns spells them, in util-linux's order: "uts, net".
    pub fn names(self) -> String {
        ORDER.iter().filter(|(kind, _)| self.contains(*kind)).map(|(_, name)| *name).collect::<Vec<_>>().join(", ")
    }
}

impl BitOr for Kinds {
    type Output = Kinds;
    fn bitor(self, other: Kinds) -> Kinds {
        Kinds(self.0 | other.0)
    }
}

/// util-linux's order: the user namespace first, so that when it grants the
/// capabilities the rest needs it is entered before them (see `enter_files`).
const ORDER: [(Kinds, &str); 8] = [
    (Kinds::USER, "user"),
    (Kinds::CGROUP, "cgroup"),
    (Kinds::IPC, "ipc"),
    (Kinds::UTS, "uts"),
    (Kinds::NET, "net"),
    (Kinds::PID, "pid"),
    (Kinds::MNT, "mnt"),
    (Kinds::TIME, "time"),
];

/// A process whose namespaces are to be entered. Where the kernel has
/// pidfds it is held by one, so the process entered is the process checked
/// even if its pid is reused meanwhile: what is read from /proc/PID (-a,
/// -r, -w) is read before the setns through the pidfd, and that setns fails
/// if the process has died since, so nothing read from a successor is used.
#[derive(Debug)]
pub struct Target {
    pid: libc::pid_t,
    pidfd: Option<OwnedFd>,
}

impl Target {
    /// Finds the process: `no process PID` when there is none, an error
    /// naming a zombie, and `/proc is not mounted` when the kernel has no
    /// pidfd and /proc is missing too.
    pub fn open(pid: libc::pid_t) -> Result<Target> {
        if pid <= 0 {
            return Err(Error::new(format!("{pid} is not a process id (a number such as 1)")));
        }
        let (pidfd, gone) = match pidfd_open(pid) {
            Ok(fd) if setns_takes_pidfd() => (Some(fd), false),
            Ok(_) | Err(Errno::ENOSYS) | Err(Errno::EPERM) => (None, false),
            Err(Errno::ESRCH) => (None, true),
            Err(e) => return Err(Error::sys(format!("pidfd_open {pid}"), e, None)),
        };
        let target = Target { pid, pidfd };
        match target.state() {
            Some('Z') => Err(Error::new(format!(
                "process {pid} is a zombie: it has exited and has no namespaces left (is its parent reaping it?)"
            ))),
            _ if gone => Err(no_process(pid)),
            Some(_) => Ok(target),
            None if target.pidfd.is_some() => Ok(target),
            None => Err(target.proc_missing("to find the process")),
        }
    }

    pub fn pid(&self) -> libc::pid_t {
        self.pid
    }

    /// The process's state letter from /proc/PID/stat; None when /proc
    /// does not have it.
    fn state(&self) -> Option<char> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).ok()?;
        // The command name may hold spaces and parentheses: the state
        // follows the last ')'.
        stat.rsplit_once(')')?.1.trim_start().chars().next()
    }

    /// The error for a /proc path that is missing: the process is gone, or
    /// /proc is not mounted at all.
    fn proc_missing(&self, purpose: &str) -> Error {
        if Path::new("/proc/self/stat").exists() {
            no_process(self.pid)
        } else {
            Error::new(format!("/proc is not mounted, and it is needed {purpose}: mount -t proc proc /proc"))
        }
    }

    /// The error for a failed open of /proc/PID/WHAT.
    fn proc_error(&self, what: &str, purpose: &str, errno: Errno) -> Error {
        match errno {
            Errno::ENOENT | Errno::ESRCH => self.proc_missing(purpose),
            Errno::EACCES | Errno::EPERM => Error::sys(format!("/proc/{}/{what}", self.pid), errno, Some(EPERM_FIX)),
            _ => Error::sys(format!("/proc/{}/{what}", self.pid), errno, None),
        }
    }

    /// Of `kinds`, those in which the target is not where we are, leaving out
    /// the types this kernel does not have: what `nsenter -a` should enter.
    /// Entering a namespace we are already in would at best do nothing, and
    /// for the user namespace the kernel refuses it.
    pub fn differing(&self, kinds: Kinds) -> Result<Kinds> {
        let mut differ = Kinds::NONE;
        for (kind, name) in ORDER.iter().filter(|(kind, _)| kinds.contains(*kind)) {
            let ours = match std::fs::metadata(format!("/proc/self/ns/{name}")) {
                Ok(meta) => meta,
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) && Path::new("/proc/self/ns").exists() => continue,
                Err(e) => return Err(self.proc_error("ns", "for -a", crate::error::errno_of(&e))),
            };
            let theirs = std::fs::metadata(format!("/proc/{}/ns/{name}", self.pid))
                .map_err(|e| self.proc_error(&format!("ns/{name}"), "for -a", crate::error::errno_of(&e)))?;
            if (ours.dev(), ours.ino()) != (theirs.dev(), theirs.ino()) {
                differ = differ | *kind;
            }
        }
        Ok(differ)
    }

    /// Opens the target's root directory (`"root"`) or working directory
    /// (`"cwd"`), to be used after entering with `change_root` or `change_dir`.
    pub fn open_dir(&self, which: &str) -> Result<OwnedFd> {
        File::open(format!("/proc/{}/{which}", self.pid))
            .map(OwnedFd::from)
            .map_err(|e| self.proc_error(which, &format!("for the target's {which}"), crate::error::errno_of(&e)))
    }

    /// Enters the namespaces `kinds` of the target: all or none where the
    /// kernel takes a pidfd. After a mount namespace the root and the working
    /// directory are that namespace's root.
    ///
    /// With nothing to enter there is no setns to fail on a dead target, so
    /// the pidfd is asked directly: what was read from /proc/PID before
    /// (-r, -w) then came from this very process, not from one that took
    /// its pid since.
    pub fn enter(&self, kinds: Kinds) -> Result<()> {
        if kinds.is_empty() {
            return self.check_alive();
        }
        match &self.pidfd {
            Some(pidfd) => setns(pidfd, kinds).map_err(|e| self.setns_error(kinds, e)),
            None => self.enter_files(kinds),
        }
    }

    /// The /proc/PID/ns fallback: every file opened before anything is
    /// entered, then util-linux's two passes: everything but the user
    /// namespace, then the user namespace and whatever failed before it.
    /// The user namespace thus comes last when we are privileged (it would
    /// take our capabilities away) and first when it is what grants them.
    fn enter_files(&self, kinds: Kinds) -> Result<()> {
        let mut files = Vec::new();
        for (kind, name) in ORDER.iter().filter(|(kind, _)| kinds.contains(*kind)) {
            let file = File::open(format!("/proc/{}/ns/{name}", self.pid)).map_err(|e| {
                self.proc_error(&format!("ns/{name}"), "to enter namespaces on this kernel", crate::error::errno_of(&e))
            })?;
            files.push((*kind, file));
        }
        // The user namespace (there is one at most) goes first in the second pass.
        let mut pending = Vec::new();
        for (kind, file) in files {
            if kind == Kinds::USER {
                pending.insert(0, (kind, file));
            } else if setns(&file, kind).is_err() {
                pending.push((kind, file));
            }
        }
        for (kind, file) in pending {
            setns(&file, kind).map_err(|e| self.setns_error(kind, e))?;
        }
        Ok(())
    }

    /// Fails when the process held by the pidfd has exited. Without a
    /// pidfd (kernels before 5.8) there is nothing that could tell.
    fn check_alive(&self) -> Result<()> {
        let Some(pidfd) = &self.pidfd else {
            return Ok(());
        };
        // SAFETY: pidfd_send_signal with signal 0 and no siginfo only checks
        // that the process lives and may be signalled; the fd is borrowed.
        let rc = unsafe {
            libc::syscall(libc::SYS_pidfd_send_signal, pidfd.as_raw_fd(), 0, std::ptr::null::<libc::siginfo_t>(), 0)
        };
        match Errno::result(rc) {
            Ok(_) | Err(Errno::EPERM) => Ok(()),
            Err(Errno::ESRCH) => Err(Error::new(format!(
                "process {} has exited: its pid may now be another process's, so nothing of it is used",
                self.pid
            ))),
            Err(e) => Err(Error::sys(format!("checking that process {} still runs", self.pid), e, None)),
        }
    }

    fn setns_error(&self, kinds: Kinds, errno: Errno) -> Error {
        let what = format!("entering the namespaces of process {} ({})", self.pid, kinds.names());
        match errno {
            Errno::EPERM => Error::sys(what, errno, Some(EPERM_FIX)),
            Errno::ESRCH => Error::new(format!("process {} has exited: {what} is no longer possible", self.pid)),
            Errno::EINVAL => Error::sys(
                what,
                errno,
                Some("the kernel refused the set: the user namespace is already ours, or a type it lacks"),
            ),
            _ => Error::sys(what, errno, None),
        }
    }
}

/// `-r`: makes `dir` the root directory, and the working directory its `/`.
pub fn change_root(dir: &OwnedFd) -> Result<()> {
    nix::unistd::fchdir(dir).map_err(|e| Error::sys("changing to the target's root", e, None))?;
    nix::unistd::chroot(".").map_err(|e| Error::sys("chroot to the target's root", e, Some("needs CAP_SYS_CHROOT")))
}

/// `-w`: makes `dir` the working directory.
pub fn change_dir(dir: &OwnedFd) -> Result<()> {
    nix::unistd::fchdir(dir).map_err(|e| Error::sys("changing to the target's working directory", e, None))
}

/// Drops the supplementary groups; true when that worked. Called once before
/// entering a user namespace, where we may still have the right to, and once
/// after, by `become_root`.
pub fn drop_groups() -> bool {
    nix::unistd::setgroups(&[]).is_ok()
}

/// After entering a user namespace: become its root (groups, gid, uid 0),
/// as nsenter does unless --preserve-credentials. `groups_dropped` says
/// whether `drop_groups` worked before entering; only both failing is an
/// error, since a namespace with setgroups denied refuses the second.
pub fn become_root(groups_dropped: bool) -> Result<()> {
    if !drop_groups() && !groups_dropped {
        return Err(Error::sys("dropping supplementary groups", Errno::last(), Some("use --preserve-credentials")));
    }
    let unmapped = Some("is uid and gid 0 mapped in the target's user namespace? or use --preserve-credentials");
    nix::unistd::setgid(Gid::from_raw(0)).map_err(|e| Error::sys("setgid 0", e, unmapped))?;
    nix::unistd::setuid(Uid::from_raw(0)).map_err(|e| Error::sys("setuid 0", e, unmapped))
}

fn no_process(pid: libc::pid_t) -> Error {
    Error::new(format!("no process {pid}"))
}

fn pidfd_open(pid: libc::pid_t) -> std::result::Result<OwnedFd, Errno> {
    // SAFETY: pidfd_open takes a pid and flags and touches no memory of
    // ours; the fd it returns is new, close-on-exec, and owned by no one else.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(Errno::last());
    }
    // SAFETY: a fresh fd from the kernel (fits in c_int by definition).
    Ok(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) })
}

fn setns(fd: &impl AsRawFd, kinds: Kinds) -> std::result::Result<(), Errno> {
    // SAFETY: setns takes an fd and flags and touches no memory of ours; the
    // fd is borrowed, so it stays open for the call.
    let rc = unsafe { libc::setns(fd.as_raw_fd(), kinds.0) };
    if rc != 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// setns takes a pidfd, and with it a whole set at once, since Linux 5.8.
fn setns_takes_pidfd() -> bool {
    kernel_version().map_or(true, |version| version >= (5, 8))
}

fn kernel_version() -> Option<(u32, u32)> {
    // SAFETY: uname fills the zeroed struct it is given and nothing else.
    let name = unsafe {
        let mut name: libc::utsname = std::mem::zeroed();
        if libc::uname(&mut name) != 0 {
            return None;
        }
        name
    };
    let release: String = name.release.iter().take_while(|c| **c != 0).map(|c| *c as u8 as char).collect::<String>();
    parse_version(&release)
}

fn parse_version(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 18.7: with nothing to enter, a target that died after it was
    /// opened is still noticed (before, enter returned early).
    #[test]
    fn a_target_that_died_is_noticed_even_when_nothing_is_entered() {
        let mut child = std::process::Command::new("sleep").arg("30").spawn().expect("spawn sleep");
        let target = Target::open(child.id() as libc::pid_t).expect("open a live child");
        assert!(target.enter(Kinds::NONE).is_ok(), "alive: nothing to enter is fine");
        if target.pidfd.is_none() {
            eprintln!("SKIPPED the death check: no pidfd on this kernel");
            let _ = child.kill();
            let _ = child.wait();
            return;
        }
        child.kill().expect("kill");
        child.wait().expect("reap");
        let e = target.enter(Kinds::NONE).expect_err("a dead target");
        assert!(e.message().contains("has exited"), "{e}");
        assert_eq!(e.status(), 125);
    }

    #[test]
    fn versions_parse() {
        assert_eq!(parse_version("6.18.44-fc-v669"), Some((6, 18)));
        assert_eq!(parse_version("5.4.0-150-generic"), Some((5, 4)));
        assert_eq!(parse_version("garbage"), None);
    }

    #[test]
    fn names_follow_util_linux_order() {
        assert_eq!((Kinds::MNT | Kinds::USER | Kinds::NET).names(), "user, net, mnt");
        assert_eq!(Kinds::ALL.names(), "user, cgroup, ipc, uts, net, pid, mnt, time");
        assert!(Kinds::ALL.contains(Kinds::MNT | Kinds::TIME));
        assert!(!(Kinds::UTS | Kinds::NET).contains(Kinds::UTS | Kinds::PID));
    }

    /// True when the test may enter namespaces; under CI it must.
    fn root(test: &str) -> bool {
        if nix::unistd::geteuid().is_root() {
            return true;
        }
        assert!(std::env::var_os("CI").is_none(), "{test}: needs root, and CI must run it");
        eprintln!("SKIPPED {test}: needs root");
        false
    }

    fn ns(pid: &str, name: &str) -> String {
        std::fs::read_link(format!("/proc/{pid}/ns/{name}")).map(|l| l.display().to_string()).unwrap_or_default()
    }

    /// A sleep in a uts and a net namespace of its own, killed when dropped.
    struct Unshared(std::process::Child);

    impl Unshared {
        fn new() -> Unshared {
            let child = std::process::Command::new("unshare")
                .args(["-u", "-n", "/bin/busybox", "sleep", "60"])
                .spawn()
                .expect("run unshare");
            let pid = child.id().to_string();
            let guard = Unshared(child);
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            while ns(&pid, "uts") == ns("self", "uts") {
                assert!(std::time::Instant::now() < deadline, "unshare never unshared");
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            guard
        }

        fn pid(&self) -> libc::pid_t {
            self.0.id() as libc::pid_t
        }
    }

    impl Drop for Unshared {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    /// Runs `f` in a forked child, so that the namespaces it enters are not
    /// the test's, and returns its exit code (101 if it panicked).
    fn in_child(f: impl FnOnce() -> i32) -> i32 {
        use nix::sys::wait::{waitpid, WaitStatus};
        use nix::unistd::{fork, ForkResult};
        // SAFETY: the child only runs `f` and then _exits; musl's fork leaves
        // malloc usable in the child of a multi-threaded process.
        match unsafe { fork() }.expect("fork") {
            ForkResult::Child => {
                let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or(101);
                // SAFETY: leaves without running the test harness's code.
                unsafe { libc::_exit(code) }
            }
            ForkResult::Parent { child } => match waitpid(child, None).expect("waitpid") {
                WaitStatus::Exited(_, code) => code,
                other => panic!("child ended with {other:?}"),
            },
        }
    }

    #[test]
    fn a_set_the_kernel_rejects_leaves_the_caller_where_it_was() {
        if !root("a_set_the_kernel_rejects_leaves_the_caller_where_it_was") {
            return;
        }
        let target = Unshared::new();
        let (uts, net) = (ns("self", "uts"), ns("self", "net"));
        let code = in_child(|| {
            let t = Target::open(target.pid()).expect("open target");
            assert!(t.pidfd.is_some(), "this kernel takes a pidfd");
            // The user namespace is ours already: the kernel refuses it, and
            // with it the uts and net namespaces it would have entered.
            let e = t.enter(Kinds::UTS | Kinds::NET | Kinds::USER).expect_err("rejected");
            assert!(e.message().contains("invalid argument"), "{e}");
            assert_eq!((ns("self", "uts"), ns("self", "net")), (uts.clone(), net.clone()), "nothing entered");
            t.enter(Kinds::UTS | Kinds::NET).expect("enter");
            assert_eq!(ns("self", "uts"), ns(&target.pid().to_string(), "uts"));
            0
        });
        assert_eq!(code, 0);
    }

    #[test]
    fn the_proc_fallback_enters_the_same_namespaces() {
        if !root("the_proc_fallback_enters_the_same_namespaces") {
            return;
        }
        let target = Unshared::new();
        let code = in_child(|| {
            let t = Target { pid: target.pid(), pidfd: None };
            t.enter(Kinds::UTS | Kinds::NET).expect("enter through /proc");
            let pid = target.pid().to_string();
            assert_eq!((ns("self", "uts"), ns("self", "net")), (ns(&pid, "uts"), ns(&pid, "net")));
            0
        });
        assert_eq!(code, 0);
    }

    #[test]
    fn missing_and_bad_pids_are_named() {
        assert_eq!(Target::open(0).map(|_| ()).unwrap_err().message(), "0 is not a process id (a number such as 1)");
        // pid_max is at most 2^22: this pid cannot exist.
        assert_eq!(Target::open(i32::MAX).map(|_| ()).unwrap_err().message(), format!("no process {}", i32::MAX));
    }
}
