//! Argument parsing shared by every applet: argh, plus the rules DESIGN.md
//! adds (UTF-8 only, `--help` exits 0, every parse error is one line, 125).

use std::ffi::OsString;

use argh::FromArgs;

use crate::error::{Error, Result};

/// Parses an applet's arguments (without argv[0]) into its argh struct.
///
/// `--help` prints the usage to stdout and exits 0 here: nothing has been
/// touched yet, so there is nothing to unwind.
pub fn parse<T: FromArgs>(applet: &str, args: &[OsString]) -> Result<T> {
    let args = utf8_args(args)?;
    let strs: Vec<&str> = args.iter().map(String::as_str).collect();
    match T::from_args(&[applet], &strs) {
        Ok(parsed) => Ok(parsed),
        Err(early) if early.status.is_ok() => {
            print!("{}", early.output);
            std::process::exit(0);
        }
        Err(early) => Err(Error::new(format!("{} (see {applet} --help)", one_line(&early.output)))),
    }
}

/// hardbox's own options must be text; a non-UTF-8 argument is refused by
/// name rather than silently mangled.
pub fn utf8_args(args: &[OsString]) -> Result<Vec<String>> {
    args.iter()
        .map(|arg| {
            arg.clone().into_string().map_err(|raw| Error::new(format!("argument {:?} is not valid UTF-8", raw)))
        })
        .collect()
}

/// An environment variable as text: None when unset, an error naming it when
/// it is not UTF-8 (refused, never guessed at). Empty stays empty.
pub fn env_var(name: &str) -> Result<Option<String>> {
    match std::env::var_os(name) {
        None => Ok(None),
        Some(value) => value.into_string().map(Some).map_err(|_| Error::new(format!("${name} is not valid UTF-8"))),
    }
}

/// A configuration variable: as `env_var`, and empty counts as unset (as in
/// the Node package, which tests them for truth).
pub fn env_setting(name: &str) -> Result<Option<String>> {
    Ok(env_var(name)?.filter(|value| !value.is_empty()))
}

/// A plain decimal number: ASCII digits only (no sign, space or prefix)
/// within T's range. std's and argh's parsing take `+5`; every number
/// hardbox reads goes through this instead.
pub fn decimal<T: std::str::FromStr>(text: &str) -> Option<T> {
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    digits.then(|| text.parse().ok()).flatten()
}

/// argh's messages span lines ("Required positional arguments not
/// provided:\n    user"); DESIGN.md wants one.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_messages_become_one() {
        assert_eq!(
            one_line("Required positional arguments not provided:\n    user\n"),
            "Required positional arguments not provided: user"
        );
    }

    #[test]
    fn decimals_are_digits_only() {
        assert_eq!(decimal::<u32>("42"), Some(42));
        assert_eq!(decimal::<u32>("007"), Some(7));
        for bad in ["", "+5", "-1", " 5", "5 ", "0x10", "4294967296", "1e3"] {
            assert_eq!(decimal::<u32>(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn non_utf8_is_refused() {
        use std::os::unix::ffi::OsStringExt;
        let bad = OsString::from_vec(vec![0x66, 0xff]);
        assert!(utf8_args(&[bad]).is_err());
    }
}
