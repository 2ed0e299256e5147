//! The multi-call dispatch: argv[0]'s basename, or the first argument, picks
//! the applet from the table in `applets/mod.rs`.

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;

use hardbox::applets::{self, APPLETS};
use hardbox::error::{Error, EXIT_FAILURE};
use hardbox::{error, install, log};

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let invoked = args
        .first()
        .and_then(|arg0| Path::new(arg0).file_name())
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let status = match applets::find(&invoked) {
        Some(applet) => run(applet, &args[1..]),
        None if invoked.starts_with("hardbox") || invoked.is_empty() => multicall(&args),
        None => unknown(&invoked),
    };
    ExitCode::from(status)
}

fn run(applet: &'static applets::Applet, args: &[OsString]) -> u8 {
    if let Err(status) = start(applet.name, applet.log) {
        return status;
    }
    match (applet.main)(args) {
        Ok(status) => status,
        Err(e) => {
            if !e.message().is_empty() {
                error!("{e}");
            }
            e.status()
        }
    }
}

/// What every path does first: name the messages, read HARDBOX_LOG, and
/// refuse a setuid install. Err carries the exit status.
fn start(name: &'static str, default: log::Level) -> Result<(), u8> {
    let setting = std::env::var_os("HARDBOX_LOG").map(|value| value.to_string_lossy().into_owned());
    if let Err(message) = log::init(name, default, setting.as_deref()) {
        error!("{message}");
        return Err(EXIT_FAILURE);
    }
    refuse_setuid().map_err(|e| {
        error!("{e}");
        e.status()
    })
}

/// `hardbox ...`: the top-level flags, or an applet named by the first argument.
fn multicall(args: &[OsString]) -> u8 {
    let first = args.get(1).map(|a| a.to_string_lossy().into_owned());
    if let Some(applet) = first.as_deref().and_then(applets::find) {
        return run(applet, &args[2..]);
    }
    if let Err(status) = start("hardbox", log::Level::Info) {
        return status;
    }
    match first.as_deref() {
        None | Some("--help") | Some("-h") | Some("help") => {
            print!("{}", usage());
            0
        }
        Some("--list") => {
            for applet in APPLETS {
                println!("{}", applet.name);
            }
            0
        }
        Some("--version") | Some("-V") => {
            println!(
                "hardbox {} ({}, commit {}, rustc {})",
                env!("CARGO_PKG_VERSION"),
                env!("HARDBOX_TARGET"),
                env!("HARDBOX_COMMIT"),
                env!("HARDBOX_RUSTC")
            );
            0
        }
        Some("--install") => install_links(&args[2..]),
        Some(name) => unknown(name),
    }
}

fn unknown(name: &str) -> u8 {
    // A name holding a newline must not forge a second line.
    error!("unknown applet '{}' (see hardbox --list)", name.replace(char::is_control, "?"));
    EXIT_FAILURE
}

fn install_links(args: &[OsString]) -> u8 {
    let force = args.iter().any(|a| a == "--force");
    let dirs: Vec<&OsString> = args.iter().filter(|a| *a != "--force").collect();
    let [dir] = dirs.as_slice() else {
        error!("usage: hardbox --install DIR [--force]");
        return EXIT_FAILURE;
    };
    match install::install(Path::new("/proc/self/exe"), Path::new(dir), force) {
        Ok(made) => {
            for link in made {
                log::line(log::Level::Info, format_args!("linked {}", link.display()));
            }
            0
        }
        Err(e) => {
            error!("--install: {e}");
            e.status()
        }
    }
}

/// hardbox is never to be installed setuid or setgid: it would hand root's
/// powers to whoever runs it.
fn refuse_setuid() -> Result<(), Error> {
    let (uid, euid) = (nix::unistd::getuid(), nix::unistd::geteuid());
    let (gid, egid) = (nix::unistd::getgid(), nix::unistd::getegid());
    if uid != euid || gid != egid {
        return Err(Error::new(format!(
            "refusing to run setuid or setgid (uid {uid}, euid {euid}, gid {gid}, egid {egid}): remove the bit with chmod u-s,g-s"
        )));
    }
    Ok(())
}

fn usage() -> String {
    let mut text = String::from(
        "usage: hardbox APPLET [ARGS...]   or   APPLET [ARGS...] through a link named after it\n\
         \x20      hardbox --list | --version | --install DIR [--force] | --help\n\napplets:\n",
    );
    let width = APPLETS.iter().map(|a| a.name.len()).max().unwrap_or(0);
    for applet in APPLETS {
        text.push_str(&format!("  {:width$}  {}\n", applet.name, applet.summary));
    }
    text.push_str("\nEach applet takes --help. Exit status: the command's own; 125 hardbox failed; 126 not executable; 127 not found.\n");
    text
}
