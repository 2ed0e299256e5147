//! Argument parsing shared by every applet: argh, plus the rules DESIGN.md
//! adds (UTF-8 only, `--help` exits 0, every parse error is one line, 125).

use std::ffi::OsString;
use std::io::Write;

use argh::FromArgs;

use crate::error::{Error, Result};

/// Parses an applet's arguments (without argv[0]) into its argh struct.
///
/// `--help` prints the usage to stdout and exits 0 here: nothing has been
/// touched yet, so there is nothing to unwind.
pub fn parse<T: FromArgs>(applet: &str, args: &[OsString]) -> Result<T> {
    let args = utf8_args(args)?;
    let mut strs: Vec<&str> = args.iter().map(String::as_str).collect();
    if let Some(first) = first_positional(&strs, |option| takes_value::<T>(applet, option)) {
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

/// Whether `option` takes a value (`--path FILE`, `-t PID`), the word
/// after it then being its value, not the first positional. argh's own
/// table answers: given the option alone, it asks for the missing value.
/// (argh's ArgsInfo would say so too, at 8 kB more binary.)
fn takes_value<T: FromArgs>(applet: &str, option: &str) -> bool {
    match T::from_args(&[applet], &[option]) {
        Err(early) => early.output.starts_with("No value provided for option"),
        Ok(_) => false,
    }
}

/// Where the first positional argument stands, if nothing before it ended
/// the options already (`--`). Options are what argh takes as options:
/// every word starting with `-`.
fn first_positional(args: &[&str], takes_value: impl Fn(&str) -> bool) -> Option<usize> {
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        if *arg == "--" {
            return None;
        }
        if !arg.starts_with('-') {
            return Some(i);
        }
        i += if takes_value(arg) { 2 } else { 1 };
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

/// An io::Error as the errno text the other messages use. Out of line: it
/// has callers in every applet.
#[inline(never)]
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

    /// Options as the applets have them: valued ones (a long name, a short
    /// one, a repeated one, one with its own parser), switches, and a
    /// required positional before the greedy command.
    #[derive(FromArgs)]
    /// A test applet.
    struct Sample {
        /// a value
        #[argh(option)]
        path: Option<String>,
        /// a value with a short name
        #[argh(option, short = 't')]
        target: Option<String>,
        /// a repeated value
        #[argh(option)]
        route: Vec<String>,
        /// a number
        #[argh(option, from_str_fn(number))]
        interval: Option<u64>,
        /// a switch
        #[argh(switch, short = 'a')]
        all: bool,
        /// the user
        #[argh(positional)]
        user: String,
        /// the command
        #[argh(positional, greedy)]
        command: Vec<String>,
    }

    fn number(text: &str) -> std::result::Result<u64, String> {
        decimal(text).ok_or_else(|| "not a number".to_string())
    }

    #[test]
    fn argh_says_which_options_take_a_value() {
        for valued in ["--path", "-t", "--target", "--route", "--interval"] {
            assert!(takes_value::<Sample>("x", valued), "{valued}");
        }
        for other in ["-a", "--all", "--help", "--bogus", "-", "help"] {
            assert!(!takes_value::<Sample>("x", other), "{other}");
        }
    }

    #[test]
    fn a_bare_help_and_later_flags_reach_the_command() {
        let args = |words: &[&str]| words.iter().map(OsString::from).collect::<Vec<_>>();
        let parsed: Sample = parse("x", &args(&["--path", "help", "-a", "help", "--help", "-a"])).unwrap();
        assert_eq!((parsed.path.as_deref(), parsed.all), (Some("help"), true));
        assert_eq!((parsed.user.as_str(), parsed.command), ("help", vec!["--help".to_string(), "-a".to_string()]));
        let parsed: Sample =
            parse("x", &args(&["-t", "help", "--route", "help", "--interval", "5", "u", "help"])).unwrap();
        assert_eq!(
            (parsed.target.as_deref(), parsed.route, parsed.interval),
            (Some("help"), vec!["help".into()], Some(5))
        );
        assert_eq!((parsed.user.as_str(), parsed.command), ("u", vec!["help".to_string()]));
    }

    #[test]
    fn the_command_starts_at_the_first_positional() {
        let values = |arg: &str| arg == "--path" || arg == "-t";
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
            assert_eq!(first_positional(args, values), *want, "{args:?}");
        }
    }

    #[test]
    fn non_utf8_is_refused() {
        use std::os::unix::ffi::OsStringExt;
        let bad = OsString::from_vec(vec![0x66, 0xff]);
        assert!(utf8_args(&[bad]).is_err());
    }
}
