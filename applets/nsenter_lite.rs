//! nsenter-lite: run a command inside another process's namespaces, as
//! util-linux `nsenter -t PID ...` does, entering them all at once.

use std::ffi::OsString;
use std::path::Path;

use argh::FromArgs;

use crate::error::{Error, Result, EXIT_NOT_FOUND};
use crate::namespace::{self, Kinds, Target};
use crate::supervise::{self, Options};
use crate::{cli, info};

const NAME: &str = "nsenter-lite";

#[derive(FromArgs)]
/// Run COMMAND (default: $SHELL, else /bin/sh) inside the namespaces of process PID.
struct Args {
    /// the process whose namespaces to enter
    #[argh(option, short = 't', arg_name = "PID")]
    target: Option<String>,
    /// enter every namespace in which PID is not where we are
    #[argh(switch, short = 'a')]
    all: bool,
    /// enter the mount namespace
    #[argh(switch, short = 'm')]
    mount: bool,
    /// enter the UTS namespace (hostname)
    #[argh(switch, short = 'u')]
    uts: bool,
    /// enter the System V IPC namespace
    #[argh(switch, short = 'i')]
    ipc: bool,
    /// enter the network namespace
    #[argh(switch, short = 'n')]
    net: bool,
    /// enter the PID namespace (the command runs as a child, unless -F)
    #[argh(switch, short = 'p')]
    pid: bool,
    /// enter the cgroup namespace
    #[argh(switch, short = 'C')]
    cgroup: bool,
    /// enter the time namespace
    #[argh(switch, short = 'T')]
    time: bool,
    /// enter the user namespace, as its root unless --preserve-credentials
    #[argh(switch, short = 'U')]
    user: bool,
    /// keep uid, gid and groups when entering a user namespace
    #[argh(switch)]
    preserve_credentials: bool,
    /// use PID's root directory
    #[argh(switch, short = 'r')]
    root: bool,
    /// use PID's working directory
    #[argh(switch, short = 'w')]
    wd: bool,
    /// do not fork after entering a PID namespace
    #[argh(switch, short = 'F')]
    no_fork: bool,
    /// the command and its arguments
    #[argh(positional, greedy)]
    command: Vec<String>,
}

pub fn main(args: &[OsString]) -> Result<u8> {
    let args = normalise(cli::utf8_args(args)?);
    let args: Args = cli::parse(NAME, &args.into_iter().map(OsString::from).collect::<Vec<_>>())?;
    let pid = parse_pid(args.target.as_deref())?;
    let requested = requested(&args);
    if requested.is_empty() && !args.all {
        return Err(Error::new("no namespace selected: give one or more of -m -u -i -n -p -C -T -U, or -a"));
    }
    let shell = args.command.is_empty();
    let command =
        if shell { vec![cli::env_setting("SHELL")?.unwrap_or_else(|| "/bin/sh".into())] } else { args.command };

    let target = Target::open(pid)?;
    let kinds = if args.all { requested | target.differing(Kinds::ALL)? } else { requested };
    let root = args.root.then(|| target.open_dir("root")).transpose()?;
    let wd = args.wd.then(|| target.open_dir("cwd")).transpose()?;
    let become_root = kinds.contains(Kinds::USER) && !args.preserve_credentials;
    let groups_dropped = become_root && namespace::drop_groups();

    target.enter(kinds)?;
    if let Some(root) = &root {
        namespace::change_root(root)?;
    }
    if let Some(wd) = &wd {
        namespace::change_dir(wd)?;
    }
    if become_root {
        namespace::become_root(groups_dropped)?;
    }
    if kinds.is_empty() {
        info!("process {pid} is in all our namespaces already: nothing to enter");
    } else {
        info!("entered the namespaces of process {pid}: {}", kinds.names());
    }
    if shell && !Path::new(&command[0]).exists() {
        return Err(Error::with_status(
            EXIT_NOT_FOUND,
            format!("no shell {} in the target (set SHELL, or give a COMMAND)", command[0]),
        ));
    }
    if kinds.contains(Kinds::PID) && !args.no_fork {
        let state = supervise::configure_signals()?;
        return supervise::supervise(&command, &state, Options::default());
    }
    Err(supervise::exec(&command))
}

fn requested(args: &Args) -> Kinds {
    [
        (args.mount, Kinds::MNT),
        (args.uts, Kinds::UTS),
        (args.ipc, Kinds::IPC),
        (args.net, Kinds::NET),
        (args.pid, Kinds::PID),
        (args.cgroup, Kinds::CGROUP),
        (args.time, Kinds::TIME),
        (args.user, Kinds::USER),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .fold(Kinds::NONE, |all, (_, kind)| all | kind)
}

/// `-t`'s value: a decimal number above 0. Public for the fuzz target.
pub fn parse_pid(target: Option<&str>) -> Result<libc::pid_t> {
    let Some(text) = target else {
        return Err(Error::new("no target: give -t PID, the process whose namespaces to enter"));
    };
    match cli::decimal::<libc::pid_t>(text) {
        Some(pid) if pid > 0 => Ok(pid),
        _ => Err(Error::new(format!("-t {text:?}: not a process id (a number such as 1)"))),
    }
}

/// Turns the option spellings util-linux users type into argh's: clusters
/// (`-muinp`), attached values (`-t1`, `--target=1`), `-h`, and options ending at
/// the first argument that is not one, as getopt's `+` mode does, so the
/// command's own options are never read as ours. Public for the fuzz target.
pub fn normalise(args: Vec<String>) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len() + 1);
    let mut rest = args.into_iter();
    while let Some(arg) = rest.next() {
        if arg == "--" || !arg.starts_with('-') || arg == "-" {
            out.push("--".to_string());
            if arg != "--" {
                out.push(arg);
            }
            break;
        }
        if let Some(value) = arg.strip_prefix("--target=") {
            out.extend(["--target".to_string(), value.to_string()]);
        } else if arg == "--target" || arg.starts_with("--") {
            let takes_value = arg == "--target";
            out.push(arg);
            if takes_value {
                out.extend(rest.next());
            }
        } else {
            for (at, flag) in arg.char_indices().skip(1) {
                // `-n-p` is no cluster: as "--" its `-` would end our options
                // there and make the rest the command. argh refuses it whole.
                if flag == '-' {
                    out.push(arg.clone());
                    break;
                }
                out.push(if flag == 'h' { "--help".to_string() } else { format!("-{flag}") });
                if flag == 't' {
                    let value = &arg[at + 1..];
                    if value.is_empty() {
                        out.extend(rest.next());
                    } else {
                        out.push(value.to_string());
                    }
                    break;
                }
            }
        }
    }
    out.extend(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(args: &[&str]) -> Vec<String> {
        normalise(args.iter().map(|a| a.to_string()).collect())
    }

    #[test]
    fn util_linux_spellings_become_argh_ones() {
        assert_eq!(
            norm(&["-t", "1", "-muinp", "ls", "-l"]),
            ["-t", "1", "-m", "-u", "-i", "-n", "-p", "--", "ls", "-l"]
        );
        assert_eq!(norm(&["-t1", "-a"]), ["-t", "1", "-a"]);
        assert_eq!(norm(&["-at", "1", "id"]), ["-a", "-t", "1", "--", "id"]);
        assert_eq!(norm(&["-mt1"]), ["-m", "-t", "1"]);
        assert_eq!(
            norm(&["--target=1", "--mount", "--", "x", "--help"]),
            ["--target", "1", "--mount", "--", "x", "--help"]
        );
        assert_eq!(norm(&["--target", "-5", "-n"]), ["--target", "-5", "-n"]);
        assert_eq!(norm(&["-t", "1", "-n", "-", "x"]), ["-t", "1", "-n", "--", "-", "x"]);
        assert_eq!(norm(&["-h"]), ["--help"]);
        // Found by fuzz/fuzz_targets/namespace_flags.rs: a `-` inside a
        // cluster became "--", ending the options mid-way.
        assert_eq!(norm(&["-t", "1", "-n-p", "id"]), ["-t", "1", "-n", "-n-p", "--", "id"]);
    }

    #[test]
    fn pids_are_positive_decimal_numbers() {
        assert_eq!(parse_pid(Some("42")), Ok(42));
        for bad in ["abc", "0", "-1", "+5", " 5", "1e3", "99999999999", ""] {
            let e = parse_pid(Some(bad)).unwrap_err();
            assert!(e.message().contains("not a process id"), "{bad}: {e}");
        }
        assert!(parse_pid(None).unwrap_err().message().contains("-t PID"));
    }
}
