//! stderr messages, one line each, prefixed with the applet's name.
//!
//! `HARDBOX_LOG=quiet|info|debug`, defaulting per applet (the table's `log`):
//! info is one line per setup step done; debug adds one line per signal and
//! per reaped child.

use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Quiet = 0,
    Info = 1,
    Debug = 2,
}

static LEVEL: AtomicU8 = AtomicU8::new(Level::Info as u8);
static APPLET: OnceLock<&'static str> = OnceLock::new();

/// Called once by the dispatcher, before the applet runs. An unknown
/// setting is refused (after the applet's name is set, so the refusal is
/// prefixed with it) rather than read as something it did not say.
pub fn init(applet: &'static str, default: Level, setting: Option<&str>) -> Result<(), String> {
    let _ = APPLET.set(applet);
    let level = match setting {
        None | Some("") => default,
        Some("info") => Level::Info,
        Some("quiet") => Level::Quiet,
        Some("debug") => Level::Debug,
        Some(other) => return Err(format!("HARDBOX_LOG={other:?}: expected quiet, info or debug")),
    };
    LEVEL.store(level as u8, Ordering::Relaxed);
    Ok(())
}

pub fn applet() -> &'static str {
    APPLET.get().copied().unwrap_or("hardbox")
}

pub fn enabled(level: Level) -> bool {
    LEVEL.load(Ordering::Relaxed) >= level as u8
}

/// Writes `APPLET: message` to stderr in one write, so lines from several
/// processes never interleave mid-line. Errors always print; so does this
/// when the level allows it.
///
/// Every message is one line, so any control character in it came from a
/// value (a command name, a user, a path): escaping it here, once, means no
/// input can forge a second line, whichever site forgot to.
pub fn line(level: Level, message: std::fmt::Arguments<'_>) {
    if level != Level::Quiet && !enabled(level) {
        return;
    }
    let mut text = escape(&format!("{}: {}", applet(), message));
    text.push('\n');
    // stderr is where a failure would be told; there is nowhere left to
    // report that it failed, and the exit status still says so.
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// The text with each control character (newline, carriage return, escape,
/// NUL...) written as Rust writes it in a literal (`\n`, `\u{1b}`): safe to
/// put in one line of a log or of data output.
pub fn escape(text: &str) -> String {
    if !text.contains(char::is_control) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

/// An error line: printed whatever HARDBOX_LOG says.
#[macro_export]
macro_rules! error {
    ($($arg:tt)*) => { $crate::log::line($crate::log::Level::Quiet, format_args!($($arg)*)) };
}

#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => { $crate::log::line($crate::log::Level::Info, format_args!($($arg)*)) };
}

#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => { $crate::log::line($crate::log::Level::Debug, format_args!($($arg)*)) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_cannot_forge_a_line() {
        assert_eq!(escape("plain /path é"), "plain /path é");
        assert_eq!(escape("a\nroute-add: forged"), "a\\nroute-add: forged");
        assert_eq!(escape("\r\t\u{1b}[2J\0\u{85}"), "\\r\\t\\u{1b}[2J\\0\\u{85}");
    }
}
