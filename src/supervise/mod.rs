//! Running the command: exec, or spawn and supervise it as an init does.
//!
//! One function per concern, as in tini: `configure_signals` blocks what we
//! forward, `spawn` forks and execs with the original signal state restored,
//! `wait_signal` waits synchronously (no handlers, no threads), `forward`
//! passes a signal on, `reap` collects every exited child. What the init
//! does at stop and exit (`--term-delay`, `--map-exit`, the leftovers) is in
//! `stop`.
//!
//! # Signals: a blocked mask in the init loop, signal-hook everywhere else
//!
//! The init loop blocks every signal it forwards and takes them one by one
//! with `sigtimedwait`, as tini does, and registers no handler:
//! - queued real-time signals each reach the command, with their count; a
//!   handler that wakes the loop through a pipe or a flag collapses them
//!   into one;
//! - a signal taken synchronously is handled by ordinary code (fork, kill,
//!   waitpid, log lines), never in signal context;
//! - a signal that comes before the command runs (a `docker stop` during the
//!   routes or the drop) stays queued, and is forwarded once it runs;
//! - the mask is what the command gets back before exec, so it inherits
//!   the signal state hardbox was given and no handler of ours.
//!
//! Outside that loop, where a signal only has to end a wait and two of the
//! same kind mean no more than one, the handler is signal-hook's
//! (`wait_for_stop`): its registry makes the handler async-signal-safe, and
//! none of it starts a thread (no iterator), so hardbox stays
//! single-threaded for setns and credential changes. The dispositions this
//! module sets (SIG_IGN, SIG_DFL) run no code and stay on nix.

use std::ffi::CString;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal};
use nix::unistd::{execv, fork, getpid, setpgid, tcsetpgrp, ForkResult, Pid};

pub mod stop;

pub use stop::{ExitMap, Stop};

use crate::error::{describe, Error, Result, EXIT_CANNOT_EXECUTE, EXIT_NOT_FOUND};
use crate::{debug, error, privilege};

/// Signals an init must never forward: they describe a fault of the process
/// that receives them, not a request for the child (tini and catatonit agree).
const FAULT_SIGNALS: [libc::c_int; 7] =
    [libc::SIGFPE, libc::SIGILL, libc::SIGSEGV, libc::SIGBUS, libc::SIGABRT, libc::SIGTRAP, libc::SIGSYS];

/// How the child is run and how signals reach it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Put the child in its own process group (and make it the terminal's
    /// foreground group when stdin is a tty), as tini does.
    pub own_group: bool,
    /// Send forwarded signals to the child's whole process group.
    pub group_signals: bool,
    /// Start the child in a new session, without a controlling terminal, so
    /// that it cannot push input into ours (TIOCSTI).
    pub new_session: bool,
    /// Once the child runs, give back the pages of hardbox's start-up code:
    /// for an init that stays resident as long as its command.
    pub shed_startup_pages: bool,
    /// Once the child runs, move to `/`, as dumb-init and catatonit do: an
    /// init that stays in the WORKDIR pins it for the container's life (a
    /// volume mounted there cannot be unmounted). The child keeps its own.
    pub leave_cwd: bool,
    /// Hold the first SIGTERM this long before it is forwarded.
    pub term_delay: Option<Duration>,
    /// As PID 1, once the command exits: how long the processes left get
    /// between SIGTERM and SIGKILL. Zero: exit at once.
    pub stop_grace: Duration,
}

/// The signal state hardbox started with, restored in the child before exec.
pub struct SignalState {
    mask: SigSet,
    ttin: SigAction,
    ttou: SigAction,
    chld: SigAction,
    /// What was blocked, built once: the set every wake-up waits on.
    blocked: libc::sigset_t,
}

/// Replaces this process with the command, PATH-searched as execvp does but
/// safely ([`privilege::search_path`]). Only returns on failure: 127 when
/// the command does not exist, 126 otherwise.
pub fn exec(argv: &[String]) -> Error {
    let (program, cargs) = match program_and_args(argv) {
        Ok(found) => found,
        Err(e) => return e,
    };
    restore_sigpipe();
    let errno = match execv(&program, &cargs) {
        Err(errno) => errno,
        Ok(never) => match never {},
    };
    exec_error(&argv[0], errno)
}

/// The program to exec and the command's argv, which keeps argv[0] as the
/// user wrote it. The search runs as whoever calls this: after the drop, it
/// sees what the target may see.
fn program_and_args(argv: &[String]) -> Result<(CString, Vec<CString>)> {
    let cargs = c_strings(argv)?;
    let Some(name) = argv.first() else { return Err(Error::new("no command given")) };
    let program = privilege::search_path(name).ok_or_else(|| exec_error(name, Errno::ENOENT))?;
    let program = CString::new(program).map_err(|_| exec_error(name, Errno::EINVAL))?;
    Ok((program, cargs))
}

/// Whether SIGPIPE was ignored when hardbox started. Rust's runtime sets it
/// to ignored before main, and an ignored signal stays ignored across exec,
/// so the original is read earlier, by `record_sigpipe` from .init_array.
static SIGPIPE_WAS_IGNORED: AtomicBool = AtomicBool::new(false);

/// Runs before Rust's runtime initialisation: the C runtime calls every
/// .init_array entry before it calls main.
#[used]
#[link_section = ".init_array"]
static RECORD_SIGPIPE: extern "C" fn() = record_sigpipe;

extern "C" fn record_sigpipe() {
    SIGPIPE_WAS_IGNORED.store(is_ignored(libc::SIGPIPE), Ordering::Relaxed);
}

fn is_ignored(sig: libc::c_int) -> bool {
    // SAFETY: a null new action only reads the current one into `old`.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(sig, std::ptr::null(), &mut old) == 0 && old.sa_sigaction == libc::SIG_IGN
    }
}

/// Ignored (SIG_IGN) or default: the only dispositions that cross an exec.
fn disposition(ignored: bool) -> SigAction {
    let handler = if ignored { SigHandler::SigIgn } else { SigHandler::SigDfl };
    SigAction::new(handler, SaFlags::empty(), SigSet::empty())
}

/// Gives SIGPIPE back the disposition hardbox was started with (only
/// ignored or default can cross an exec): without it `cmd | head` would see
/// EPIPE instead of dying quietly.
fn restore_sigpipe() {
    // Referenced here so that no link step can leave it out.
    std::hint::black_box(&RECORD_SIGPIPE);
    // SAFETY: SIG_IGN and SIG_DFL run no code of ours in signal context.
    let _ = unsafe { sigaction(Signal::SIGPIPE, &disposition(SIGPIPE_WAS_IGNORED.load(Ordering::Relaxed))) };
}

/// The error for a failed exec, with the status DESIGN.md assigns to it.
pub fn exec_error(command: &str, errno: Errno) -> Error {
    // Plain names read as a shell prints them; an empty or blank one (say,
    // from --expand-env) is quoted so the line still shows what was run.
    let command = if command.is_empty() || command.contains(|c: char| c.is_whitespace() || c.is_control()) {
        format!("{command:?}")
    } else {
        command.to_string()
    };
    match errno {
        Errno::ENOENT | Errno::ENOTDIR => Error::with_status(EXIT_NOT_FOUND, format!("{command}: command not found")),
        _ => Error::with_status(EXIT_CANNOT_EXECUTE, format!("{command}: cannot execute: {}", describe(errno))),
    }
}

fn c_strings(argv: &[String]) -> Result<Vec<CString>> {
    argv.iter()
        .map(|arg| {
            CString::new(arg.as_bytes()).map_err(|_| Error::new(format!("argument {arg:?} contains a NUL byte")))
        })
        .collect()
}

/// Blocks every signal an init forwards, plus SIGCHLD, so that they queue
/// for `wait_signal` instead of running handlers; ignores TTIN and TTOU so
/// that handing the terminal to the child cannot stop us. A SIGCHLD that we
/// were given ignored is set to the default: ignored, the kernel would reap
/// the command itself and its exit status would be lost.
pub fn configure_signals() -> Result<SignalState> {
    let blocked = blocked_signals();
    let mut mask = SigSet::empty();
    // SAFETY: the set was built by sigemptyset/sigaddset.
    let block = unsafe { SigSet::from_sigset_t_unchecked(blocked) };
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&block), Some(&mut mask))
        .map_err(|e| Error::sys("blocking signals", e, None))?;
    let ignore = SigAction::new(SigHandler::SigIgn, SaFlags::empty(), SigSet::empty());
    // SAFETY: installing SIG_IGN runs no code of ours in signal context.
    let ttin = unsafe { sigaction(Signal::SIGTTIN, &ignore) }.map_err(|e| Error::sys("ignoring SIGTTIN", e, None))?;
    // SAFETY: as above.
    let ttou = unsafe { sigaction(Signal::SIGTTOU, &ignore) }.map_err(|e| Error::sys("ignoring SIGTTOU", e, None))?;
    let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    // SAFETY: installing SIG_DFL runs no code of ours in signal context.
    let chld =
        unsafe { sigaction(Signal::SIGCHLD, &default) }.map_err(|e| Error::sys("defaulting SIGCHLD", e, None))?;
    Ok(SignalState { mask, ttin, ttou, chld, blocked })
}

/// Every catchable signal except SIGCHLD and the fault signals, real-time
/// ones included. TTIN and TTOU are ignored AND blocked: a blocked signal is
/// queued even when ignored, so one sent to us reaches the child (as with
/// tini), while the kernel's own job-control stops cannot stop us.
fn forwarded_signals() -> libc::sigset_t {
    // SAFETY: sigemptyset initialises the set before any read; sigaddset
    // only fails (EINVAL) for numbers outside the range, which we skip.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in 1..=libc::SIGRTMAX() {
            let excluded = matches!(sig, libc::SIGKILL | libc::SIGSTOP | libc::SIGCHLD)
                || FAULT_SIGNALS.contains(&sig)
                || (sig > libc::SIGSYS && sig < libc::SIGRTMIN());
            if !excluded {
                libc::sigaddset(&mut set, sig);
            }
        }
        set
    }
}

/// What `configure_signals` blocks and `wait_signal` waits for: the
/// forwarded signals and SIGCHLD. Exactly that set: waiting on a full one
/// would swallow a SIGABRT sent to an init that is not PID 1, which must
/// end it as it ends any other process.
fn blocked_signals() -> libc::sigset_t {
    let mut set = forwarded_signals();
    // SAFETY: `set` is an initialised sigset_t and SIGCHLD a valid signal.
    unsafe { libc::sigaddset(&mut set, libc::SIGCHLD) };
    set
}

/// Forks and execs the command in the child, with the signal mask and the
/// TTIN/TTOU dispositions hardbox started with. Returns the child's pid.
pub fn spawn(argv: &[String], state: &SignalState, options: Options) -> Result<Pid> {
    let (program, cargs) = program_and_args(argv)?;
    // SAFETY: hardbox is single-threaded here (DESIGN.md), so the child may
    // run any code, not only async-signal-safe functions.
    match unsafe { fork() } {
        Err(e) => Err(Error::sys("fork", e, Some("too many processes? check the pids limit"))),
        Ok(ForkResult::Parent { child }) => {
            // Also done here, so that a group signal forwarded before the
            // child ran its own setpgid still finds the group (once the
            // child has exec'd this fails, harmlessly).
            if options.own_group {
                let _ = setpgid(child, child);
            }
            Ok(child)
        }
        Ok(ForkResult::Child) => {
            if options.own_group {
                take_terminal();
            }
            if options.new_session {
                if let Err(e) = nix::unistd::setsid() {
                    error!("{}", Error::sys("setsid", e, None));
                    // SAFETY: as below.
                    unsafe { libc::_exit(i32::from(crate::error::EXIT_FAILURE)) }
                }
            }
            restore_signals(state);
            let errno = match execv(&program, &cargs) {
                Err(errno) => errno,
                Ok(never) => match never {},
            };
            let e = exec_error(&argv[0], errno);
            error!("{e}");
            // SAFETY: _exit skips the parent's atexit handlers and buffers,
            // which belong to the parent.
            unsafe { libc::_exit(i32::from(e.status())) }
        }
    }
}

/// In the child: a process group of its own, made the terminal's foreground
/// group when there is a terminal.
fn take_terminal() {
    let _ = setpgid(Pid::from_raw(0), Pid::from_raw(0));
    let stdin = std::io::stdin();
    match tcsetpgrp(&stdin, getpid()) {
        Ok(()) | Err(Errno::ENOTTY) | Err(Errno::ENXIO) | Err(Errno::EBADF) => {}
        Err(e) => debug!("tcsetpgrp: {}", describe(e)),
    }
}

fn restore_signals(state: &SignalState) {
    // SAFETY: restoring dispositions saved by configure_signals.
    unsafe {
        let _ = sigaction(Signal::SIGTTIN, &state.ttin);
        let _ = sigaction(Signal::SIGTTOU, &state.ttou);
        let _ = sigaction(Signal::SIGCHLD, &state.chld);
    }
    restore_sigpipe();
    if STOP_HANDLED.load(Ordering::Relaxed) {
        // wait_for_stop's handlers give way to what hardbox was given: done
        // before the unmask, a TERM in between ends the child (or is
        // ignored, as it was) instead of running our handler.
        // SAFETY: SIG_IGN and SIG_DFL run no code of ours in signal context.
        unsafe {
            let _ = sigaction(Signal::SIGTERM, &disposition(TERM_WAS_IGNORED.load(Ordering::Relaxed)));
            let _ = sigaction(Signal::SIGINT, &disposition(INT_WAS_IGNORED.load(Ordering::Relaxed)));
        }
    }
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&state.mask), None);
}

/// Waits for one of the signals `configure_signals` blocked (its
/// `blocked`), at most `timeout` when given. Ok(None) when the time ran out;
/// an error other than that or EINTR is fatal: the init can no longer take
/// its signals.
fn wait_signal(set: &libc::sigset_t, timeout: Option<Duration>) -> Result<Option<libc::c_int>> {
    let spec = timeout.map(timespec);
    let spec_ptr = spec.as_ref().map_or(std::ptr::null(), |s| s as *const libc::timespec);
    loop {
        // SAFETY: `set` is initialised; sigtimedwait writes only into
        // `info`; with a null timeout it waits without limit.
        let sig = unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            libc::sigtimedwait(set, &mut info, spec_ptr)
        };
        if sig > 0 {
            return Ok(Some(sig));
        }
        match Errno::last() {
            Errno::EINTR => continue,
            Errno::EAGAIN => return Ok(None),
            e => return Err(Error::sys("waiting for signals (sigtimedwait)", e, None)),
        }
    }
}

fn timespec(time: Duration) -> libc::timespec {
    libc::timespec { tv_sec: time.as_secs().min(i64::MAX as u64) as _, tv_nsec: time.subsec_nanos() as _ }
}

/// A signal's name for messages: signal-hook's (`SIGTERM`), or
/// `SIGRTMIN+N` for a real-time one, which it does not name.
pub fn signal_name(sig: libc::c_int) -> String {
    match signal_hook::low_level::signal_name(sig) {
        Some(name) => name.to_string(),
        None if sig >= libc::SIGRTMIN() => format!("SIGRTMIN+{}", sig - libc::SIGRTMIN()),
        None => format!("signal {sig}"),
    }
}

/// The signal `wait_for_stop` saw, 0 for none: set by signal-hook's handler.
static STOP_SEEN: AtomicUsize = AtomicUsize::new(0);

/// Whether `wait_for_stop` has registered its handlers, and whether TERM
/// and INT were ignored before (for the command, which gets that back).
static STOP_HANDLED: AtomicBool = AtomicBool::new(false);
static TERM_WAS_IGNORED: AtomicBool = AtomicBool::new(false);
static INT_WAS_IGNORED: AtomicBool = AtomicBool::new(false);

/// Sleeps for `time`, or until SIGTERM or SIGINT comes, which it returns:
/// for a wait outside the init loop (between two runs of a command, for a
/// lock), where a signal only ends the wait. The first call registers
/// signal-hook handlers and blocks both signals; each wait unblocks them
/// only inside `ppoll`, atomically, so one that comes between two waits is
/// kept for the next instead of lost in the gap.
pub fn wait_for_stop(time: Duration) -> Result<Option<libc::c_int>> {
    let stops = [libc::SIGTERM, libc::SIGINT];
    if !STOP_HANDLED.swap(true, Ordering::Relaxed) {
        let mut block = SigSet::empty();
        block.add(Signal::SIGTERM);
        block.add(Signal::SIGINT);
        nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&block), None)
            .map_err(|e| Error::sys("blocking SIGTERM and SIGINT", e, None))?;
        TERM_WAS_IGNORED.store(is_ignored(libc::SIGTERM), Ordering::Relaxed);
        INT_WAS_IGNORED.store(is_ignored(libc::SIGINT), Ordering::Relaxed);
        for sig in stops {
            signal_hook::flag::register_usize(sig, &STOP_SEEN, sig as usize)
                .map_err(|e| Error::new(format!("handling {}: {e}", signal_name(sig))))?;
        }
    }
    let mut during = SigSet::thread_get_mask().map_err(|e| Error::sys("reading the signal mask", e, None))?;
    during.remove(Signal::SIGTERM);
    during.remove(Signal::SIGINT);
    // A time too far to represent: wait on, without a limit.
    let deadline = Instant::now().checked_add(time);
    loop {
        match STOP_SEEN.swap(0, Ordering::SeqCst) {
            0 => {}
            sig => return Ok(Some(sig as libc::c_int)),
        }
        let spec = match deadline {
            Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                Some(left) => Some(timespec(left)),
                None => return Ok(None),
            },
            None => None,
        };
        let spec_ptr = spec.as_ref().map_or(std::ptr::null(), |s| s as *const libc::timespec);
        // SAFETY: no descriptors to poll (a null array of length 0); the
        // timeout and the mask are read only for the length of the call.
        let rc = unsafe { libc::ppoll(std::ptr::null_mut(), 0, spec_ptr, during.as_ref()) };
        if rc < 0 && Errno::last() != Errno::EINTR {
            return Err(Error::sys("waiting for SIGTERM or SIGINT (ppoll)", Errno::last(), None));
        }
    }
}

/// Passes `sig` on to the child, or to its process group.
pub fn forward(child: Pid, sig: libc::c_int, options: Options) {
    let target = if options.group_signals { -child.as_raw() } else { child.as_raw() };
    // SAFETY: kill has no memory effects; a real-time signal has no
    // nix::Signal value, hence the raw call.
    let rc = unsafe { libc::kill(target, sig) };
    if rc != 0 {
        debug!("forwarding {} to {target}: {}", signal_name(sig), describe(Errno::last()));
    } else {
        debug!("forwarded {} to {target}", signal_name(sig));
    }
}

/// The signal the last supervised command died of, 0 when it exited: what
/// `die_like` needs, and a status (143) cannot tell from an exit(143).
static COMMAND_KILLED_BY: AtomicI32 = AtomicI32::new(0);

/// Collects every child that has exited, without blocking. Returns the exit
/// status of `main` if it was among them.
pub fn reap(main: Pid) -> Option<u8> {
    let mut main_status = None;
    while let Some((pid, status)) = wait_any() {
        let code = exit_status(status);
        if pid == main {
            let killed_by = if libc::WIFSIGNALED(status) { libc::WTERMSIG(status) } else { 0 };
            COMMAND_KILLED_BY.store(killed_by, Ordering::Relaxed);
            main_status = code;
        } else {
            debug!("reaped {pid}");
        }
    }
    main_status
}

/// One child that has exited, if any, with its raw wait status. The raw call
/// because nix's waitpid cannot describe a death by a real-time signal: it
/// fails with EINVAL after the kernel has already reaped the child, and the
/// status (the command's own exit status) would be lost.
fn wait_any() -> Option<(Pid, libc::c_int)> {
    loop {
        let mut status = 0;
        // SAFETY: waitpid writes only into `status`.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid > 0 {
            return Some((Pid::from_raw(pid), status));
        }
        if pid < 0 && Errno::last() == Errno::EINTR {
            continue;
        }
        return None;
    }
}

/// A finished process's raw wait status as a shell reports it: its code, or
/// 128+N for death by signal N (real-time ones included). None for a status
/// that is not an end (stopped or continued).
pub fn exit_status(status: libc::c_int) -> Option<u8> {
    if libc::WIFEXITED(status) {
        Some(libc::WEXITSTATUS(status) as u8)
    } else if libc::WIFSIGNALED(status) {
        Some(128u8.wrapping_add(libc::WTERMSIG(status) as u8))
    } else {
        None
    }
}

/// Runs the command as a child and stays with it: forwards every forwarded
/// signal, reaps every child, and returns the command's status when it ends.
pub fn supervise(argv: &[String], state: &SignalState, options: Options) -> Result<u8> {
    supervise_observing(argv, state, options, |_| {})
}

/// `supervise`, telling `seen` of each signal before it is forwarded (checkpoint
/// needs to know whether the command ended because it was asked to stop).
pub fn supervise_observing(
    argv: &[String],
    state: &SignalState,
    options: Options,
    mut seen: impl FnMut(libc::c_int),
) -> Result<u8> {
    let child = spawn(argv, state, options)?;
    if options.leave_cwd {
        // The command runs already: a failure here costs only the pin.
        if let Err(e) = nix::unistd::chdir("/") {
            error!("{}", Error::sys("changing to / after starting the command", e, None));
        }
    }
    // Shedding parses /proc/self/smaps: worth it for a command that stays,
    // not for one that is done within the first moments (issue 8's start row).
    let mut shed_at = options.shed_startup_pages.then(|| Instant::now() + SHED_AFTER);
    let mut held = stop::TermDelay::default();
    loop {
        let timeout = [shed_at, held.due()].into_iter().flatten().min();
        match wait_signal(&state.blocked, timeout.map(|at| at.saturating_duration_since(Instant::now())))? {
            Some(libc::SIGCHLD) => {
                if let Some(status) = reap(child) {
                    stop::end_leftovers(options, &state.blocked)?;
                    return Ok(status);
                }
            }
            // Every other signal waited on is a forwarded one.
            Some(sig) => {
                seen(sig);
                for sig in held.on_signal(sig, options.term_delay) {
                    forward(child, sig, options);
                }
            }
            None => {}
        }
        let now = Instant::now();
        if held.release_if_due(now) {
            forward(child, libc::SIGTERM, options);
        }
        if shed_at.is_some_and(|at| at <= now) {
            shed_at = None;
            shed_startup_pages();
        }
    }
}

/// How long the command must have run before the init sheds its pages.
const SHED_AFTER: Duration = Duration::from_millis(100);

/// An init stays resident as long as its command, so its size counts (issue
/// 4 asks for at most 0.6x tini's). Parsing, lookups, netlink and the drop
/// are done: their code need not stay mapped. Dropping the pages of our
/// read-only file mappings lets only those the wait loop touches come back
/// (from the page cache, on the next access).
fn shed_startup_pages() {
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else { return };
    let mut candidate = None;
    let mut shed = Vec::new();
    for line in smaps.lines() {
        if let Some(range) = shed_candidate(line) {
            candidate = range;
        } else if let (Some(range), Some(anonymous)) = (candidate, line.strip_prefix("Anonymous:")) {
            candidate = None;
            // A page written since it was mapped (a relocated GOT, later
            // made read-only) is anonymous and would be lost: such a mapping
            // stays.
            if anonymous.trim() == "0 kB" {
                shed.push(range);
            }
        }
    }
    // Last, so that the parsing above does not fault its code back in.
    for (start, end) in shed {
        // SAFETY: a private read-only file mapping with no page of its own:
        // MADV_DONTNEED only drops pages that the kernel reads back from the
        // file on access; no content changes.
        unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) };
    }
}

/// For a mapping's header line in /proc/self/smaps: Some(Some(range)) when
/// it is a private, read-only mapping of a file; Some(None) for any other
/// mapping; None for the lines that describe a mapping.
fn shed_candidate(line: &str) -> Option<Option<(usize, usize)>> {
    let mut fields = line.split_whitespace();
    let (range, perms) = (fields.next()?, fields.next()?);
    let (start, end) = range.split_once('-')?;
    let (start, end) = (usize::from_str_radix(start, 16).ok()?, usize::from_str_radix(end, 16).ok()?);
    let inode = fields.nth(2)?;
    let read_only_private = perms.len() == 4 && perms.starts_with("r-") && perms.ends_with('p');
    Some((read_only_private && inode != "0" && end > start).then_some((start, end)))
}

/// Ends this process as the supervised command ended, when a signal killed
/// it: util-linux nsenter does so, and whoever waits for us then sees the
/// signal, not an exit status. Returns `status` (for an exit with it) when
/// the command exited, as PID 1 (which the kernel shields from its own
/// signals), and for a signal signal-hook cannot emulate (real-time ones).
pub fn die_like(status: u8) -> u8 {
    let sig = COMMAND_KILLED_BY.load(Ordering::Relaxed);
    let named = signal_hook::low_level::signal_name(sig).is_some();
    if sig == 0 || i32::from(status) != 128 + sig || !named || nix::unistd::getpid().as_raw() == 1 {
        return status;
    }
    // The command's core dump is the command's; one of hardbox is noise.
    // SAFETY: PR_SET_DUMPABLE takes an integer flag and touches no memory.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
    // Only a signal whose default is to ignore or stop returns here, and no
    // such signal ends a process.
    let _ = signal_hook::low_level::emulate_default_handler(sig);
    status
}

/// Makes orphaned descendants come to us even when we are not PID 1.
pub fn become_subreaper() -> Result<()> {
    // SAFETY: PR_SET_CHILD_SUBREAPER takes an integer flag and touches no memory.
    let rc = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    if rc != 0 {
        return Err(Error::sys("becoming a child subreaper", Errno::last(), None));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_errors_map_to_126_and_127() {
        assert_eq!(exec_error("x", Errno::ENOENT).status(), 127);
        assert_eq!(exec_error("x", Errno::EACCES).status(), 126);
        assert_eq!(exec_error("x", Errno::ENOEXEC).status(), 126);
        assert_eq!(exec_error("x", Errno::ENOENT).message(), "x: command not found");
        assert_eq!(exec_error("", Errno::ENOENT).message(), "\"\": command not found");
        assert_eq!(exec_error("a b\n", Errno::ENOENT).message(), "\"a b\\n\": command not found");
    }

    #[test]
    fn forwarded_set_excludes_faults_and_chld() {
        let set = forwarded_signals();
        let has = |sig| unsafe { libc::sigismember(&set, sig) == 1 };
        for sig in
            [libc::SIGHUP, libc::SIGINT, libc::SIGTERM, libc::SIGUSR1, libc::SIGWINCH, libc::SIGTTIN, libc::SIGTTOU]
        {
            assert!(has(sig), "{sig} forwarded");
        }
        assert!(has(libc::SIGRTMIN()) && has(libc::SIGRTMAX()), "real-time signals forwarded");
        for sig in [libc::SIGCHLD, libc::SIGSEGV, libc::SIGKILL, libc::SIGSTOP, libc::SIGABRT, libc::SIGSYS] {
            assert!(!has(sig), "{sig} not forwarded");
        }
    }

    #[test]
    fn signals_are_named_real_time_ones_too() {
        assert_eq!(signal_name(libc::SIGTERM), "SIGTERM");
        assert_eq!(signal_name(libc::SIGRTMIN() + 3), "SIGRTMIN+3");
        assert_eq!(signal_name(0), "signal 0");
    }

    #[test]
    fn the_wait_set_is_the_blocked_set() {
        let set = blocked_signals();
        let has = |sig| unsafe { libc::sigismember(&set, sig) == 1 };
        assert!(has(libc::SIGCHLD) && has(libc::SIGTERM));
        assert!(!has(libc::SIGABRT), "an init that is not PID 1 must die of SIGABRT");
    }

    #[test]
    fn only_private_read_only_file_mappings_are_shed() {
        let header =
            |perms: &str, inode: &str| format!("00401000-00474000 {perms} 00001000 fe:00 {inode}   /bin/hardbox");
        assert_eq!(shed_candidate(&header("r-xp", "10010771")), Some(Some((0x401000, 0x474000))));
        assert_eq!(shed_candidate(&header("r--p", "10010771")), Some(Some((0x401000, 0x474000))));
        assert_eq!(shed_candidate(&header("rw-p", "10010771")), Some(None), "our data");
        assert_eq!(shed_candidate(&header("r--s", "10010771")), Some(None), "shared");
        assert_eq!(shed_candidate(&header("r-xp", "0")), Some(None), "anonymous");
        assert_eq!(shed_candidate("7ffd-7ffe r-xp 00000000 00:00 0 [vdso]"), Some(None));
        assert_eq!(shed_candidate("Anonymous:             0 kB"), None);
        assert_eq!(shed_candidate("VmFlags: rd ex mr mw me dw"), None);
    }

    #[test]
    fn statuses_follow_the_shell() {
        assert_eq!(exit_status(3 << 8), Some(3));
        assert_eq!(exit_status(255 << 8), Some(255));
        assert_eq!(exit_status(libc::SIGTERM), Some(143));
        // Death by a real-time signal, which nix cannot express.
        assert_eq!(exit_status(libc::SIGRTMIN() + 2), Some(128 + libc::SIGRTMIN() as u8 + 2));
        // Stopped: not an end.
        assert_eq!(exit_status((libc::SIGSTOP << 8) | 0x7f), None);
    }
}
