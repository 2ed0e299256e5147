//! `dropuser USER[:GROUP] COMMAND...`: become USER for good (groups, gid,
//! uid, capabilities, no_new_privs), verify it, then exec the command.

use std::ffi::OsString;

use argh::FromArgs;
use nix::errno::Errno;

use crate::error::{Error, Result};
use crate::privilege::{self, DropOptions, Target, UserSpec};
use crate::{cli, info, supervise};

/// Become USER[:GROUP] for good (groups, gid, uid, capabilities,
/// no_new_privs), verify it, then run COMMAND.
#[derive(FromArgs)]
struct Args {
    /// capabilities to keep across the drop, e.g. net_bind_service
    #[argh(option, arg_name = "CAP,...")]
    keep_caps: Option<String>,
    /// the exact supplementary groups, names or numbers
    #[argh(option, arg_name = "GROUP,...")]
    groups: Option<String>,
    /// allow uid 0 as the target (every capability still dropped)
    #[argh(switch)]
    allow_root: bool,
    /// do not set no_new_privs (setuid programs and file capabilities work)
    #[argh(switch)]
    allow_new_privs: bool,
    /// keep only TERM; set PATH, HOME, USER, LOGNAME
    #[argh(switch)]
    reset_env: bool,
    /// run COMMAND in a new session, so it cannot push input into the caller's terminal (TIOCSTI)
    #[argh(switch)]
    setsid: bool,
    /// USER[:GROUP], each a name or a number 0..2147483647
    #[argh(positional, arg_name = "USER[:GROUP]")]
    user: String,
    /// the command and its arguments, run with PATH search as USER
    #[argh(positional, greedy)]
    command: Vec<String>,
}

pub fn main(args: &[OsString]) -> Result<u8> {
    let args: Args = cli::parse("dropuser", args)?;
    let spec = UserSpec::parse(&args.user)?;
    let options = DropOptions {
        keep_caps: args.keep_caps.as_deref().map(privilege::parse_caps).transpose()?.unwrap_or_default(),
        groups: args.groups.as_deref().map(privilege::parse_groups).transpose()?,
        allow_root: args.allow_root,
        allow_new_privs: args.allow_new_privs,
    };
    let command = match args.command.first().map(String::as_str) {
        Some("--") => &args.command[1..],
        _ => &args.command[..],
    };
    if command.is_empty() {
        return Err(Error::new("no command given (usage: dropuser USER[:GROUP] COMMAND [ARG...])"));
    }
    let target = Target::resolve(&spec, &options)?;

    privilege::drop(&target)?;
    privilege::apply_environment(&target, args.reset_env);
    info!("running {} as {target}", command[0]);
    if args.setsid {
        return run_in_new_session(command);
    }
    Err(supervise::exec(command))
}

/// setsid() is refused to a process group leader (dropuser started by an
/// interactive shell, or as a container's PID 1): then the command runs as
/// a child in its own session, and we pass signals and its status on.
fn run_in_new_session(command: &[String]) -> Result<u8> {
    match nix::unistd::setsid() {
        Ok(_) => Err(supervise::exec(command)),
        Err(Errno::EPERM) => {
            let signals = supervise::configure_signals()?;
            supervise::supervise(command, &signals, supervise::Options { new_session: true, ..Default::default() })
        }
        Err(e) => Err(Error::sys("setsid", e, None)),
    }
}
