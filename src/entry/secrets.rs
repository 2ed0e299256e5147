//! `--file-env NAME,...`: a secret handed over as a file (`NAME_FILE=/run/secrets/x`,
//! the convention of the official images' entrypoints) becomes the variable
//! NAME of the command. The files are read while hardbox is still root, so a
//! secret only root can read still reaches the app after the drop.
//!
//! A value is never printed: not in an error, not at any log level. Messages
//! name the variable and the file only.

use std::ffi::OsString;
use std::fmt;
use std::io::Read;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::OpenOptionsExt;

use nix::errno::Errno;

use crate::error::{Error, Result};

/// Larger than any password, key or token; smaller than a mistake (a log
/// file or a binary named by accident) that would then sit in every child's
/// environment.
pub const MAX_SIZE: usize = 1 << 20;

/// The environment, as a lookup that tests can fake; the caller's counts
/// an empty value as unset.
pub type Env<'a> = &'a dyn Fn(&str) -> Result<Option<String>>;

/// One NAME of the list and what its file gave.
struct Entry {
    name: String,
    /// None when NAME_FILE is unset: NAME is then left as the environment
    /// has it, as the official images' `file_env` does.
    file: Option<Secret>,
}

/// A value read from a file. It has no Display and its Debug shows only
/// where it came from, so no format string can print it by mistake.
struct Secret {
    path: String,
    value: Vec<u8>,
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(from {:?})", self.path)
    }
}

/// Every secret of the list, read and checked; nothing set yet.
#[derive(Default)]
pub struct FileEnv(Vec<Entry>);

impl FileEnv {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Sets each NAME and removes its NAME_FILE. hardbox has no threads, so
    /// changing the environment races with nothing.
    pub fn apply(&self) {
        for entry in &self.0 {
            if let Some(secret) = &entry.file {
                std::env::set_var(&entry.name, OsString::from_vec(secret.value.clone()));
                std::env::remove_var(file_var(&entry.name));
            }
        }
    }
}

/// The info line: names and paths, never a value or its length.
impl fmt::Display for FileEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, entry) in self.0.iter().enumerate() {
            let sep = if n == 0 { "" } else { ", " };
            match &entry.file {
                Some(secret) => write!(f, "{sep}{} from {:?}", entry.name, secret.path)?,
                None => write!(f, "{sep}{} as is ({} unset)", entry.name, file_var(&entry.name))?,
            }
        }
        Ok(())
    }
}

fn file_var(name: &str) -> String {
    format!("{name}_FILE")
}

/// Parses the list and reads every file it names. `source` names the list
/// in messages (`--file-env` or `FILE_ENV`).
pub fn resolve(source: &str, list: &str, env: Env) -> Result<FileEnv> {
    let mut entries: Vec<Entry> = Vec::new();
    for name in list.split(',') {
        if !is_name(name) {
            return Err(Error::new(format!(
                "{source} {list:?}: {name:?} is not a variable name (letters, digits and _, not first a digit)"
            )));
        }
        if entries.iter().any(|e| e.name == name) {
            return Err(Error::new(format!("{source} {list:?}: {name} given twice")));
        }
        let file_var = file_var(name);
        let file = match env(&file_var)? {
            None => None,
            Some(path) => {
                if env(name)?.is_some() {
                    return Err(Error::new(format!(
                        "{source}: both {name} and {file_var} are set: unset one (the value would be ambiguous)"
                    )));
                }
                let value = read(&path).map_err(|e| {
                    let what = format!("{source}: {name} from {file_var}={path:?}");
                    match e {
                        ReadError::Sys(errno) => Error::sys(what, errno, hint(errno)),
                        ReadError::NotAFile => Error::new(format!("{what}: not a regular file")),
                        ReadError::TooLarge => Error::new(format!("{what}: larger than {MAX_SIZE} bytes")),
                        ReadError::Nul => {
                            Error::new(format!("{what}: holds a NUL byte, which no environment variable can"))
                        }
                    }
                })?;
                Some(Secret { path, value })
            }
        };
        entries.push(Entry { name: name.to_owned(), file });
    }
    Ok(FileEnv(entries))
}

fn hint(errno: Errno) -> Option<&'static str> {
    match errno {
        Errno::ENOENT => Some("mount the secret there, or unset the variable"),
        Errno::EACCES | Errno::EPERM => Some("hardbox reads it before the drop: start the container as root"),
        _ => None,
    }
}

/// A portable environment variable name, as POSIX defines it.
fn is_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'A'..=b'Z' | b'a'..=b'z' | b'_'))
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

enum ReadError {
    Sys(Errno),
    NotAFile,
    TooLarge,
    Nul,
}

impl From<std::io::Error> for ReadError {
    fn from(e: std::io::Error) -> Self {
        ReadError::Sys(crate::error::errno_of(&e))
    }
}

/// The file's content without its trailing newlines, as `$(< file)` gives
/// it. O_NONBLOCK so that a FIFO put there cannot hang the start (it is
/// refused as not a regular file); std opens close-on-exec.
fn read(path: &str) -> std::result::Result<Vec<u8>, ReadError> {
    let file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY).open(path)?;
    if !file.metadata()?.is_file() {
        return Err(ReadError::NotAFile);
    }
    let mut value = Vec::new();
    file.take(MAX_SIZE as u64 + 1).read_to_end(&mut value)?;
    if value.len() > MAX_SIZE {
        return Err(ReadError::TooLarge);
    }
    if value.contains(&0) {
        return Err(ReadError::Nul);
    }
    while value.last() == Some(&b'\n') {
        value.pop();
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(vars: Vec<(&'static str, String)>) -> impl Fn(&str) -> Result<Option<String>> {
        move |name| Ok(vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone()))
    }

    fn file(tag: &str, content: &[u8]) -> String {
        let path = std::env::temp_dir().join(format!("hardbox-secret-{tag}-{}", std::process::id()));
        std::fs::write(&path, content).unwrap();
        path.display().to_string()
    }

    #[test]
    fn the_value_loses_its_trailing_newlines_only() {
        let path = file("nl", b"\n s3cret \n\n");
        let env = env_of(vec![("PW_FILE", path.clone())]);
        let got = resolve("--file-env", "PW,OTHER", &env).unwrap();
        assert_eq!(got.0[0].file.as_ref().unwrap().value, b"\n s3cret ");
        assert!(got.0[1].file.is_none());
        let line = got.to_string();
        assert_eq!(line, format!("PW from {path:?}, OTHER as is (OTHER_FILE unset)"));
        assert!(!format!("{:?}", got.0[0].file).contains("s3cret"));
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn refusals_name_the_file_and_never_the_value() {
        let nul = file("nul", b"s3cret\0x");
        let big = file("big", &vec![b's'; MAX_SIZE + 1]);
        let cases = [
            (vec![("PW_FILE", nul.clone())], "NUL byte"),
            (vec![("PW_FILE", big.clone())], "larger than 1048576"),
            (vec![("PW_FILE", "/nonexistent/pw".into())], "no such file"),
            (vec![("PW_FILE", "/".into())], "not a regular file"),
            (vec![("PW_FILE", nul.clone()), ("PW", "s3cret".into())], "both PW and PW_FILE"),
        ];
        for (vars, needle) in cases {
            let e = resolve("--file-env", "PW", &env_of(vars)).err().unwrap();
            assert!(e.message().contains(needle), "{e}");
            assert!(!e.message().contains("s3cret"), "{e}");
            assert_eq!(e.status(), 125);
        }
        assert!(resolve("--file-env", "PW", &env_of(vec![("PW", "x".into())])).unwrap().0[0].file.is_none());
        let _ = (std::fs::remove_file(nul), std::fs::remove_file(big));
    }

    #[test]
    fn the_list_holds_names() {
        for bad in ["", "A,", ",A", "1A", "A-B", "A B", "A,A", "=A"] {
            assert!(resolve("FILE_ENV", bad, &env_of(vec![])).is_err(), "{bad:?}");
        }
        assert!(resolve("FILE_ENV", "_A1,b", &env_of(vec![])).is_ok());
    }
}
