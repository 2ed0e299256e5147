//! `inspect [PID]`: one process as it sees the world (identity,
//! capabilities, limits, namespaces, cgroup, mounts, sockets, DNS), read
//! from /proc and changing nothing.

use std::ffi::OsString;
use std::io::Write;

use argh::FromArgs;

use crate::cli;
use crate::error::{Error, Result};
use crate::procfs::{self, report, Options};

/// Show one process as it sees the world: identity, capabilities, limits,
/// signals, namespaces, cgroup, mounts, addresses, routes, listening
/// sockets, DNS, environment names and open files. Read only: it enters no
/// namespace and sends nothing. Exit 0 when the process was found, 1 when
/// there is no such process.
#[derive(FromArgs)]
struct Args {
    /// one JSON object instead of text (schema in the README)
    #[argh(switch)]
    json: bool,
    /// print the environment's values too, not only the names (they often hold secrets)
    #[argh(switch)]
    env: bool,
    /// list every file descriptor and what it points at, not only their count
    #[argh(switch)]
    fds: bool,
    /// the process, 1 by default (the container's main process)
    #[argh(positional, arg_name = "PID")]
    pid: Option<String>,
}

pub fn main(args: &[OsString]) -> Result<u8> {
    let args: Args = cli::parse("inspect", args)?;
    let pid = match args.pid.as_deref() {
        None => 1,
        Some(text) => match cli::decimal::<i32>(text) {
            Some(pid) if pid > 0 => pid as u32,
            _ => return Err(Error::new(format!("PID {text:?} is not a process id (want a number 1..2147483647)"))),
        },
    };
    let sections = procfs::inspect(pid, Options { env: args.env, fds: args.fds })?;
    let out = if args.json { report::json(pid, &sections) } else { report::text(&sections) };
    std::io::stdout().lock().write_all(out.as_bytes()).map_err(|e| Error::new(format!("writing the report: {e}")))?;
    Ok(0)
}
