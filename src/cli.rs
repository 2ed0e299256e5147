//! Argument parsing shared by every applet: argh, plus the rules DESIGN.md
//! adds (UTF-8 only, `--help` exits 0, every parse error is one line, 125).

use std::ffi::OsString;
use std::io::Write;

use argh::{ArgsInfo, FromArgs};

use crate::error::{Error, Result};

/// Parses an applet's arguments (without argv[0]) into its argh struct.
///
/// `--help` prints the usage to stdout and exits 0 here: nothing has been
/// touched yet, so there is nothing to unwind.
pub fn parse<T: FromArgs + ArgsInfo>(applet: &str, args: &[OsString]) -> Result<T> {
    let args = utf8_args(args)?;
    let mut strs: Vec<&str> = args.iter().map(String::as_str).collect();
    if let Some(first) = first_positional(&strs, &value_options::<T>()) {
        // argh reads a bare `help` (and, before a greedy positional, any
        // `--flag`) as its own wherever it stands; the `--` makes the
        // command and its arguments reach the applet verbatim.
        strs.insert(first, "--");
    }
    match T::from_args(&[applet], &strs) {
        Ok(parsed) => Ok(parsed),
        Err(early) if early.status.is_ok() => {
            // A bare `help` never reaches argh as a trigger (see above).
            print(&early.output.replace("--help, help  ", "--help        "))?;
            std::process::exit(0);
        }
        Err(early) => Err(Error::new(format!("{} (see {applet} --help)", one_line(&early.output)))),
    }
}

/// The options of T that take a value (`--path FILE`, `-t PID`): the word
/// after one is its value, not the first positional.
fn value_options<T: ArgsInfo>() -> Vec<String> {
    let mut names = Vec::new();
    for flag in T::get_args_info().flags {
        if let argh::FlagInfoKind::Option { .. } = flag.kind {
            names.push(flag.long.to_string());
            names.extend(flag.short.map(|c| format!("-{c}")));
        }
    }
    names
}

/// Where the first positional argument stands, if nothing before it ended
/// the options already (`--`). Options are what argh takes as options:
/// every word starting with `-`.
fn first_positional(args: &[&str], value_options: &[String]) -> Option<usize> {
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        if *arg == "--" {
            return None;
        }
        if !arg.starts_with('-') {
            return Some(i);
        }
        i += if value_options.iter().any(|name| name == arg) { 2 } else { 1 };
    }
    None
}

/// Writes data output (usage, lists, answers) to stdout. A write that
/// fails (a closed pipe, a full disk, `>/dev/full`) is hardbox's failure,
/// 125, never a panic.
pub fn print(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Error::new(format!("cannot write to stdout: {}", describe_io(&e))))
}

/// An io::Error as the errno text the other messages use.
pub fn describe_io(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(errno) => crate::error::describe(nix::errno::Errno::from_raw(errno)),
        None => e.to_string(),
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
    fn the_command_starts_at_the_first_positional() {
        let values = vec!["--path".to_string(), "-t".to_string()];
        let cases: &[(&[&str], Option<usize>)] = &[
            (&["help"], Some(0)),
            (&["--path", "help", "help", "x"], Some(2)),
            (&["-t", "1", "-a", "sh", "--help"], Some(3)),
            (&["--allow-root", "nobody", "id"], Some(1)),
            (&["--", "help"], None),
            (&["--help"], None),
            (&["--path"], None),
            (&[], None),
        ];
        for (args, want) in cases {
            assert_eq!(first_positional(args, &values), *want, "{args:?}");
        }
    }

    #[test]
    fn non_utf8_is_refused() {
        use std::os::unix::ffi::OsStringExt;
        let bad = OsString::from_vec(vec![0x66, 0xff]);
        assert!(utf8_args(&[bad]).is_err());
    }
}
