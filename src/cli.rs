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
    fn non_utf8_is_refused() {
        use std::os::unix::ffi::OsStringExt;
        let bad = OsString::from_vec(vec![0x66, 0xff]);
        assert!(utf8_args(&[bad]).is_err());
    }
}
