//! checkpoint: run a command once per checkpoint, and record success
//! atomically; with STARTUP_SCRIPT set and no command, a drop-in for the
//! Kubernetes startup-script DaemonSet image.

use std::ffi::OsString;
use std::time::{Duration, Instant};

use argh::FromArgs;
use nix::sys::signal::Signal;

use crate::error::{Error, Result};
use crate::namespace::{Kinds, Target};
use crate::record::{self, Checkpoint, Found, Record, Root};
use crate::supervise::{self, Options, SignalState};
use crate::{cli, debug, error, info};

const DEFAULT_PREFIX: &str = "/tmp/checkpoint_";
/// The startup-script image's own default, byte for byte, so that nodes it
/// already set up are not set up again.
const STARTUP_SCRIPT_PREFIX: &str = "/tmp/startup-script.kubernetes.io_";
/// The startup-script image sleeps 30 seconds between checks.
const STARTUP_SCRIPT_INTERVAL: u64 = 30;
/// The longest interval: a year, far inside what a deadline can hold.
const MAX_INTERVAL: u64 = 365 * 24 * 3600;

#[derive(FromArgs)]
/// Run COMMAND once per checkpoint: skip it when FILE records the same key,
/// otherwise run it and, when it exits 0, record that atomically. With
/// STARTUP_SCRIPT set and no COMMAND: run the host's `/bin/bash -c
/// "$STARTUP_SCRIPT"` in the namespaces of PID 1 (or --target), as the
/// startup-script DaemonSet image does (CHECKPOINT_PATH, CHECKPOINT_INTERVAL).
struct Args {
    /// the checkpoint file (default /tmp/checkpoint_ + md5 of the key)
    #[argh(option, arg_name = "FILE")]
    path: Option<String>,
    /// what the checkpoint stands for (default: the command line, its
    /// arguments joined by NUL bytes)
    #[argh(option, arg_name = "TEXT")]
    key: Option<String>,
    /// resolve FILE inside the root of process PID
    #[argh(option, arg_name = "PID", from_str_fn(pid_arg))]
    target: Option<i32>,
    /// resolve FILE inside directory DIR, taken as the root
    #[argh(option, arg_name = "DIR")]
    root: Option<String>,
    /// never exit on success: re-check every SECS seconds, run again when
    /// the checkpoint has gone, retry a failed run
    #[argh(option, arg_name = "SECS", from_str_fn(seconds_arg))]
    interval: Option<u64>,
    /// print whether the checkpoint is there; exit 0 if so, 1 if not
    #[argh(switch)]
    status: bool,
    /// delete the checkpoint
    #[argh(switch)]
    remove: bool,
    /// the command and its arguments
    #[argh(positional, greedy)]
    command: Vec<String>,
}

/// Everything resolved and checked before anything runs.
struct Plan {
    checkpoint: Checkpoint,
    /// None: any valid record counts (`--status`/`--remove` with only a path).
    key: Option<Vec<u8>>,
    /// startup-script mode: the file's existence is what counts, so that a
    /// checkpoint the old image `touch`ed is honoured.
    existence: bool,
    command: Vec<String>,
    interval: Option<Duration>,
    /// startup-script mode: the process whose namespaces the script runs in.
    enter: Option<Target>,
}

pub fn main(args: &[OsString]) -> Result<u8> {
    let args: Args = cli::parse("checkpoint", args)?;
    let (status, remove) = (args.status, args.remove);
    let plan = plan(args)?;
    if status {
        return print_status(&plan);
    }
    let signals = supervise::configure_signals()?;
    if remove {
        return remove_checkpoint(&plan);
    }
    run(&plan, &signals)
}

fn plan(args: Args) -> Result<Plan> {
    if args.status && args.remove {
        return Err(Error::new("--status and --remove exclude each other"));
    }
    if args.target.is_some() && args.root.is_some() {
        return Err(Error::new("--target and --root exclude each other"));
    }
    if let Some(pid) = args.target.filter(|pid| *pid <= 0) {
        return Err(Error::new(format!("--target {pid}: not a process id (give a PID above 0)")));
    }
    let query = args.status || args.remove;
    if query && args.interval.is_some() {
        return Err(Error::new("--interval runs the command; it does not go with --status or --remove"));
    }
    let script = if args.command.is_empty() { cli::env_setting("STARTUP_SCRIPT")? } else { None };
    let interval = match (args.interval, &script) {
        (Some(secs), _) => Some(secs),
        (None, Some(_)) => Some(env_interval()?),
        (None, None) => None,
    };
    if interval == Some(0) {
        return Err(Error::new("--interval 0 (or CHECKPOINT_INTERVAL=0): give a number of seconds above 0"));
    }
    if let Some(secs) = interval.filter(|&secs| secs > MAX_INTERVAL) {
        return Err(Error::new(format!(
            "--interval {secs} (or CHECKPOINT_INTERVAL): give at most {MAX_INTERVAL} seconds (a year)"
        )));
    }
    if script.is_some() && args.root.is_some() {
        return Err(Error::new(
            "--root does not go with STARTUP_SCRIPT: the script runs in a process's namespaces (--target PID)",
        ));
    }
    if script.is_none() && args.command.is_empty() && !query {
        return Err(Error::new("no command given (give COMMAND, or set STARTUP_SCRIPT)"));
    }
    let key = match (args.key, &script) {
        (Some(key), _) => Some(key.into_bytes()),
        (None, Some(script)) => Some(format!("{script}\n").into_bytes()),
        (None, None) if !args.command.is_empty() => Some(args.command.join("\0").into_bytes()),
        (None, None) => None,
    };
    let prefix = if script.is_some() { STARTUP_SCRIPT_PREFIX } else { DEFAULT_PREFIX };
    let path =
        match (args.path, script.as_ref().map(|_| cli::env_setting("CHECKPOINT_PATH")).transpose()?.flatten(), &key) {
            (Some(path), _, _) | (None, Some(path), _) => path,
            (None, None, Some(key)) => record::default_path(prefix, key),
            (None, None, None) => return Err(Error::new("which checkpoint? give --path, --key or the command")),
        };
    let root = match (args.target, args.root, &script) {
        (Some(pid), _, _) => Root::Process(pid),
        (None, Some(dir), _) => Root::Dir(dir),
        (None, None, Some(_)) => Root::Process(1),
        (None, None, None) => Root::Own,
    };
    let enter = match (&root, &script) {
        // Without hostPID, PID 1 is the container's own init, often this very
        // process: refuse, rather than look for the host's bash in our image.
        (Root::Process(pid), Some(_)) if *pid as u32 == std::process::id() => {
            return Err(Error::new(format!(
                "process {pid} is checkpoint itself, not the host (in a pod: set hostPID: true)"
            )))
        }
        (Root::Process(pid), Some(_)) => Some(Target::open(*pid)?),
        _ => None,
    };
    let command = match script {
        Some(script) => vec!["/bin/bash".to_string(), "-c".to_string(), script],
        None => args.command,
    };
    let mut checkpoint = Checkpoint::open(&root, &path)?;
    if enter.is_some() {
        // The record's name in the host's /tmp is one anyone can compute;
        // its lock goes where only root can create files.
        checkpoint.lock_in(&root, "/run")?;
    }
    Ok(Plan {
        checkpoint,
        key,
        existence: enter.is_some(),
        command,
        interval: interval.map(Duration::from_secs),
        enter,
    })
}

fn env_interval() -> Result<u64> {
    match cli::env_setting("CHECKPOINT_INTERVAL")? {
        None => Ok(STARTUP_SCRIPT_INTERVAL),
        Some(text) => cli::decimal(&text).ok_or_else(|| {
            Error::new(format!("CHECKPOINT_INTERVAL={text}: not a number of seconds (e.g. CHECKPOINT_INTERVAL=30)"))
        }),
    }
}

fn pid_arg(text: &str) -> std::result::Result<i32, String> {
    cli::decimal(text).ok_or_else(|| format!("{text:?} is not a process id"))
}

fn seconds_arg(text: &str) -> std::result::Result<u64, String> {
    cli::decimal(text).ok_or_else(|| format!("{text:?} is not a number of seconds"))
}

impl Plan {
    /// Whether what is at the path means the command need not run.
    fn done(&self, found: &Found) -> bool {
        match found {
            Found::Absent => false,
            Found::Invalid(_) | Found::Foreign(_) => self.existence,
            Found::Valid(record) => {
                self.existence || self.key.as_ref().map_or(true, |key| record.key == record::md5_hex(key))
            }
        }
    }

    fn startup_script(&self) -> bool {
        self.enter.is_some()
    }
}

fn print_status(plan: &Plan) -> Result<u8> {
    let shown = plan.checkpoint.shown();
    let found = plan.checkpoint.read()?;
    let line = match (&found, plan.done(&found)) {
        (Found::Valid(r), true) => {
            format!("{shown}: done at {} by hardbox {}: {}", record::utc(r.time), r.version, r.command)
        }
        (Found::Invalid(why) | Found::Foreign(why), true) => format!("{shown}: present ({why})"),
        (Found::Valid(_), false) => format!("{shown}: absent (it records another key)"),
        (Found::Invalid(why) | Found::Foreign(why), false) => format!("{shown}: absent ({why})"),
        (Found::Absent, _) => format!("{shown}: absent"),
    };
    cli::print(&format!("{}\n", crate::log::escape(&line)))?;
    Ok(if plan.done(&found) { 0 } else { 1 })
}

fn remove_checkpoint(plan: &Plan) -> Result<u8> {
    let shown = plan.checkpoint.shown();
    let _lock = match lock(plan)? {
        Locked::Held(lock) => lock,
        Locked::Stopped(sig) => return Ok(128 + sig as u8),
        Locked::Busy => return Err(Error::new(format!("{}: held by another runner", plan.checkpoint.lock_shown()))),
    };
    let found = plan.checkpoint.read()?;
    match found {
        Found::Absent => info!("{shown}: absent, nothing to remove"),
        _ if plan.done(&found) => {
            plan.checkpoint.remove()?;
            info!("removed {shown}");
        }
        Found::Valid(_) => return Err(Error::new(format!("{shown}: not removed: it records another key"))),
        Found::Invalid(why) => return Err(Error::new(format!("{shown}: not removed: {why}"))),
        Found::Foreign(why) => {
            return Err(Error::new(format!("{shown}: not removed: it is not a checkpoint record ({why})")))
        }
    }
    Ok(0)
}

/// What one check-and-run did.
enum Outcome {
    AlreadyDone,
    Ran {
        status: u8,
        stopped: bool,
    },
    /// SIGTERM or SIGINT came while waiting for the lock.
    Stopped(i32),
    /// Another runner held the lock for a whole interval.
    Busy,
}

fn run(plan: &Plan, signals: &SignalState) -> Result<u8> {
    if let Some(target) = &plan.enter {
        enter(target)?;
    }
    let mut first = true;
    loop {
        let outcome = once(plan, signals, first)?;
        first = false;
        let stopped = match (outcome, plan.interval) {
            (Outcome::Stopped(_), Some(_)) => return Ok(0),
            (Outcome::Stopped(sig), None) => return Ok(128 + sig as u8),
            (Outcome::AlreadyDone | Outcome::Busy, _) => false,
            (Outcome::Ran { status: 0, stopped }, _) => {
                if plan.startup_script() {
                    info!("startup-script succeeded!");
                }
                stopped
            }
            // A command that died of the SIGTERM we forwarded did not fail:
            // we were told to stop, and stop.
            (Outcome::Ran { stopped: true, .. }, Some(_)) => return Ok(0),
            (Outcome::Ran { status, .. }, None) => return Ok(status),
            (Outcome::Ran { status, .. }, Some(_)) if plan.startup_script() => {
                error!("startup-script failed! exit code '{status}'");
                return Ok(1);
            }
            (Outcome::Ran { status, .. }, Some(interval)) => {
                error!("{} failed with status {status}; retrying in {}s", plan.command[0], interval.as_secs());
                false
            }
        };
        let Some(interval) = plan.interval else {
            return Ok(0);
        };
        if stopped || supervise::wait_for_stop(interval)?.is_some() {
            return Ok(0);
        }
    }
}

/// Enters the namespaces of the target as `nsenter -t PID -m -u -i -n -p`
/// does; the command, forked after this, starts in them, at `/`.
fn enter(target: &Target) -> Result<()> {
    target.enter(Kinds::MNT | Kinds::UTS | Kinds::IPC | Kinds::NET | Kinds::PID)?;
    std::env::set_current_dir("/").map_err(|e| Error::new(format!("changing to / after entering: {e}")))?;
    info!("entered the namespaces of process {}", target.pid());
    Ok(())
}

/// Under the lock: check, and run the command when the checkpoint is not
/// there; record it when it succeeded.
fn once(plan: &Plan, signals: &SignalState, first: bool) -> Result<Outcome> {
    let shown = plan.checkpoint.shown();
    let _lock = match lock(plan)? {
        Locked::Held(lock) => lock,
        Locked::Stopped(sig) => return Ok(Outcome::Stopped(sig)),
        Locked::Busy => return Ok(Outcome::Busy),
    };
    let found = plan.checkpoint.read()?;
    if plan.done(&found) {
        let when = match &found {
            Found::Valid(record) => format!("already done at {} ({shown})", record::utc(record.time)),
            _ => format!("already done ({shown} exists)"),
        };
        if first {
            info!("{when}");
        } else {
            debug!("{when}");
        }
        return Ok(Outcome::AlreadyDone);
    }
    match found {
        Found::Invalid(why) => info!("{shown}: a torn checkpoint ({why}); running the command"),
        // Replacing it would overwrite a file that is not ours to overwrite.
        Found::Foreign(why) => {
            return Err(Error::new(format!(
                "{shown}: exists and is not a checkpoint record ({why}); not replacing it (remove it, or choose another --path)"
            )))
        }
        _ => {}
    }
    let pending = plan.checkpoint.prepare()?;
    let (status, stopped) = run_command(&plan.command, signals)?;
    if status == 0 {
        let key = plan.key.as_deref().unwrap_or_default();
        pending
            .commit(&Record::new(key, &plan.command))
            .map_err(|e| Error::new(format!("the command ran but was not recorded: {e}")))?;
        info!("done; recorded in {shown}");
    }
    Ok(Outcome::Ran { status, stopped })
}

enum Locked {
    Held(record::Lock),
    Stopped(i32),
    Busy,
}

/// Waits for the lock on FILE.lock, or for SIGTERM or SIGINT, whichever
/// comes first: a runner queued behind a long command still stops promptly.
/// With an interval the wait is bounded by it, so a runner that never lets
/// go cannot stall the loop unseen; without one, the run waits its turn.
fn lock(plan: &Plan) -> Result<Locked> {
    let start = Instant::now();
    let mut said = false;
    loop {
        if let Some(lock) = plan.checkpoint.try_lock()? {
            return Ok(Locked::Held(lock));
        }
        if !said {
            info!("waiting for {}: another runner holds it", plan.checkpoint.lock_shown());
            said = true;
        }
        if let Some(interval) = plan.interval.filter(|interval| start.elapsed() >= *interval) {
            error!(
                "{}: still held by another runner after {}s; trying again in {}s",
                plan.checkpoint.lock_shown(),
                interval.as_secs(),
                interval.as_secs()
            );
            return Ok(Locked::Busy);
        }
        if let Some(sig) = supervise::wait_for_stop(Duration::from_millis(100))? {
            return Ok(Locked::Stopped(sig));
        }
    }
}

/// Runs the command under `supervise`, noting whether SIGTERM or SIGINT came:
/// they are forwarded to the command, and in interval mode end the loop once it ends.
fn run_command(argv: &[String], signals: &SignalState) -> Result<(u8, bool)> {
    let mut stopped = false;
    let status = supervise::supervise_observing(argv, signals, Options::default(), |sig| stopped |= is_stop(sig))?;
    Ok((status, stopped))
}

fn is_stop(sig: i32) -> bool {
    sig == Signal::SIGTERM as i32 || sig == Signal::SIGINT as i32
}
