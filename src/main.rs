//! The multi-call dispatch: argv[0]'s basename, or the first argument, picks
//! the applet from the table in `applets/mod.rs`.

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;

use hardbox::applets::{self, APPLETS};
use hardbox::error::{Error, EXIT_FAILURE};
use hardbox::{cli, error, install, log};

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
/// refuse a setuid, setgid or file-capability install. Err carries the exit status.
fn start(name: &'static str, default: log::Level) -> Result<(), u8> {
    let setting = std::env::var_os("HARDBOX_LOG").map(|value| value.to_string_lossy().into_owned());
    if let Err(message) = log::init(name, default, setting.as_deref()) {
        error!("{message}");
        return Err(EXIT_FAILURE);
    }
    refuse_secure_exec().map_err(|e| {
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
        None | Some("--help") | Some("-h") | Some("help") => out(&usage()),
        Some("--list") => out(&APPLETS.iter().map(|applet| format!("{}\n", applet.name)).collect::<String>()),
        Some("--version") | Some("-V") => out(&format!(
            "hardbox {} ({}, commit {}, rustc {})\n",
            env!("CARGO_PKG_VERSION"),
            env!("HARDBOX_TARGET"),
            env!("HARDBOX_COMMIT"),
            env!("HARDBOX_RUSTC")
        )),
        Some("--install") => install_links(&args[2..]),
        Some(name) => unknown(name),
    }
}

/// Data output to stdout; a write that fails is hardbox's failure (125).
fn out(text: &str) -> u8 {
    match cli::print(text) {
        Ok(()) => 0,
        Err(e) => {
            error!("{e}");
            e.status()
        }
    }
}

fn unknown(name: &str) -> u8 {
    error!("unknown applet '{name}' (see hardbox --list)");
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

/// hardbox is never to be installed setuid, setgid or with file
/// capabilities: it would hand those powers to whoever runs it. The kernel
/// says so through AT_SECURE for all three (comparing uid with euid misses
/// file capabilities).
fn refuse_secure_exec() -> Result<(), Error> {
    // SAFETY: getauxval only reads the auxiliary vector the kernel gave us.
    if unsafe { libc::getauxval(libc::AT_SECURE) } == 0 {
        return Ok(());
    }
    let exe = std::fs::read_link("/proc/self/exe")
        .map(|path| path.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "the hardbox binary".into());
    Err(Error::new(format!(
        "refusing to run setuid, setgid or with file capabilities (uid {}, euid {}): \
         remove them with chmod u-s,g-s {exe} and setcap -r {exe}",
        nix::unistd::getuid(),
        nix::unistd::geteuid()
    )))
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
