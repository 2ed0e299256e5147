//! probe: a HEALTHCHECK, an exec probe or a wait-for with no curl, wget or
//! shell in the image (issue 14). Exit 0 healthy, 1 unhealthy, 125 bad
//! usage; never 2, which Docker reserves.

use std::ffi::OsString;

use argh::FromArgs;

use crate::error::{Error, Result};
use crate::probe::{self, Options, Statuses, Target};
use crate::{cli, error, info};

#[derive(FromArgs)]
/// Check that every TARGET is healthy, in order; the first failure decides.
/// TARGETs: http://HOST[:PORT]/PATH, tcp://HOST:PORT, unix:///SOCKET (connect),
/// unix:///SOCKET:/PATH (HTTP over it), file:///PATH. Exit 0 healthy, 1
/// unhealthy, 125 bad usage. A response body is never printed.
struct Args {
    /// the time one target's whole check may take (default 2s)
    #[argh(option, arg_name = "DUR")]
    timeout: Option<String>,
    /// the healthy HTTP statuses, codes and ranges (default 200-399)
    #[argh(option, arg_name = "RANGES")]
    status: Option<String>,
    /// an HTTP request header, 'Name: value' (repeatable)
    #[argh(option, arg_name = "HEADER")]
    header: Vec<String>,
    /// the HTTP method, GET or HEAD (default GET)
    #[argh(option, arg_name = "METHOD")]
    method: Option<String>,
    /// text the HTTP body, the stream's reply or the file must contain
    #[argh(option, arg_name = "TEXT")]
    expect: Option<String>,
    /// a line to send on a tcp:// or unix:// stream
    #[argh(option, arg_name = "TEXT")]
    send: Option<String>,
    /// file:// only: modified at most this long ago
    #[argh(option, arg_name = "DUR")]
    max_age: Option<String>,
    /// retry until every target passes or DUR has gone
    #[argh(option, arg_name = "DUR")]
    wait: Option<String>,
    /// with --wait: the time between attempts (default 1s)
    #[argh(option, arg_name = "DUR")]
    every: Option<String>,
    /// expand ${VAR:-default} and the like in TARGETs, as dhi-bootstrap does
    #[argh(switch)]
    expand_env: bool,
    /// what to check (options come before the targets)
    #[argh(positional)]
    targets: Vec<String>,
}

pub fn main(args: &[OsString]) -> Result<u8> {
    let args: Args = cli::parse("probe", args)?;
    if args.targets.is_empty() {
        return Err(Error::new("no target given (usage: probe [OPTIONS] TARGET...; see probe --help)"));
    }
    let targets = probe::parse_targets(&args.targets, args.expand_env)?;
    let options = options(&args, &targets)?;
    let every = args.every.as_deref().map(|t| probe::parse_duration("--every", t)).transpose()?;
    let outcome = match args.wait.as_deref().map(|t| probe::parse_duration("--wait", t)).transpose()? {
        Some(wait) => probe::wait(&targets, &options, wait, every.unwrap_or(probe::DEFAULT_EVERY)),
        None if every.is_some() => return Err(Error::new("--every belongs to --wait: add --wait DUR")),
        None => probe::check_all(&targets, &options, None),
    };
    match outcome {
        Ok(lines) => {
            for line in lines {
                info!("{line}");
            }
            Ok(0)
        }
        Err(line) => {
            error!("{line}");
            Ok(1)
        }
    }
}

/// The options, each refused when no target could use it.
fn options(args: &Args, targets: &[Target]) -> Result<Options> {
    let mut options = Options::new();
    if let Some(text) = &args.timeout {
        options.timeout = probe::parse_duration("--timeout", text)?;
    }
    let http = targets.iter().any(Target::is_http);
    let unused =
        |option: &str, wants: &str| Error::new(format!("{option}: only for {wants} targets, and none is given"));
    if let Some(text) = &args.status {
        options.statuses = Statuses::parse(text)?;
    }
    for header in &args.header {
        options.headers.push(probe::parse_header(header)?);
    }
    options.head = match args.method.as_deref() {
        None | Some("GET") => false,
        Some("HEAD") => true,
        Some(other) => return Err(Error::new(format!("--method {other:?}: want GET or HEAD"))),
    };
    if !http && (args.status.is_some() || !args.header.is_empty() || args.method.is_some()) {
        return Err(unused("--status, --header and --method", "http:// or unix://SOCKET:/PATH"));
    }
    if let Some(send) = &args.send {
        if !targets.iter().any(Target::is_stream) {
            return Err(unused("--send", "tcp:// or unix:// (without a path)"));
        }
        if send.bytes().any(|b| b == b'\n' || b == b'\r') {
            return Err(Error::new(format!("--send {send:?}: one line, without line breaks (probe adds the newline)")));
        }
        options.send = Some(send.clone());
    }
    if let Some(text) = &args.max_age {
        if !targets.iter().any(|t| matches!(t, Target::File { .. })) {
            return Err(unused("--max-age", "file://"));
        }
        options.max_age = Some(probe::parse_duration("--max-age", text)?);
    }
    options.expect = args.expect.clone();
    Ok(options)
}
