//! The one error type: a message for stderr and the exit status it implies.
//!
//! Exit statuses follow DESIGN.md: 125 when hardbox itself failed, 126 when
//! the command was found but could not be executed, 127 when it was not found,
//! otherwise the command's own status (128+N for death by signal N).

use std::fmt;

use nix::errno::Errno;

/// hardbox itself failed: bad argument, bad configuration, a failed setup step.
pub const EXIT_FAILURE: u8 = 125;
/// The command exists but could not be executed.
pub const EXIT_CANNOT_EXECUTE: u8 = 126;
/// The command was not found.
pub const EXIT_NOT_FOUND: u8 = 127;

/// Boxed, so that a `Result` is at most a word wider than its value and
/// each `?` moves a pointer: moving the whole error at every `?` cost the
/// shipped binary 18.6 kB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(Box<Inner>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Inner {
    message: String,
    status: u8,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A failure of hardbox's own (exit 125).
    pub fn new(message: impl Into<String>) -> Self {
        Self::with_status(EXIT_FAILURE, message)
    }

    pub fn with_status(status: u8, message: impl Into<String>) -> Self {
        Error(Box::new(Inner { message: message.into(), status }))
    }

    /// A failed system call: `WHAT: strerror (HINT)`, exit 125.
    pub fn sys(what: impl fmt::Display, errno: Errno, hint: Option<&str>) -> Self {
        let mut message = format!("{what}: {}", describe(errno));
        if let Some(hint) = hint {
            message.push_str(&format!(" ({hint})"));
        }
        Self::new(message)
    }

    pub fn message(&self) -> &str {
        &self.0.message
    }

    pub fn status(&self) -> u8 {
        self.0.status
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)
    }
}

/// The errno of an io::Error from a system call (EIO for one that has none).
pub fn errno_of(e: &std::io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))
}

/// strerror in the lower case that reads well in the middle of a line.
/// The texts are ASCII, so ASCII lower case does, without std's 12 kB
/// Unicode case table.
pub fn describe(errno: Errno) -> String {
    let mut text = errno.desc().to_string();
    if let Some(first) = text.get_mut(..1) {
        first.make_ascii_lowercase();
    }
    if text.is_empty() {
        return format!("errno {}", errno as i32);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sys_errors_name_the_value_the_cause_and_the_fix() {
        let e = Error::sys("10.0.0.0/8 via 172.17.0.1", Errno::EPERM, Some("needs CAP_NET_ADMIN"));
        assert_eq!(e.message(), "10.0.0.0/8 via 172.17.0.1: operation not permitted (needs CAP_NET_ADMIN)");
        assert_eq!(e.status(), EXIT_FAILURE);
    }

    #[test]
    fn statuses_are_kept() {
        assert_eq!(Error::with_status(EXIT_NOT_FOUND, "x").status(), 127);
    }
}
