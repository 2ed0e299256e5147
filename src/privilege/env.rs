//! The environment the command starts with, and the program its name
//! stands for.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

use nix::unistd::AccessFlags;

use super::Target;

/// PATH after `--reset-env`: Docker's default.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The search list when PATH is unset: musl's execvp default.
const EXECVP_PATH: &str = "/usr/local/bin:/bin:/usr/bin";

/// Sets HOME, USER and LOGNAME from the target, each exactly once: a
/// duplicate left behind (`HOME=/root` twice) is what a shell may read. With
/// `reset`, first removes everything but one TERM, entries without `=` or
/// with an empty name included, and sets a default PATH. hardbox has no
/// threads, so changing the environment races with nothing.
pub fn apply_environment(target: &Target, reset: bool) {
    let set = [("HOME", target.home.as_str()), ("USER", &target.name), ("LOGNAME", &target.name)];
    if reset {
        let term = std::env::var_os("TERM");
        clear();
        if let Some(term) = term {
            std::env::set_var("TERM", term);
        }
        std::env::set_var("PATH", DEFAULT_PATH);
    }
    for (name, value) in set {
        // musl's unsetenv removes every entry of the name; setenv then
        // adds the one.
        std::env::remove_var(name);
        std::env::set_var(name, value);
    }
}

/// Empties the environment. std cannot: it sees `=foo=bar` as the name
/// `=foo`, and remove_var panics on a name with `=`.
fn clear() {
    // SAFETY: single-threaded (no other thread reads the environment), and
    // nothing holds a pointer into it: std copies what getenv returns.
    unsafe { libc::clearenv() };
}

/// The program `command` names, as execvp would find it but safely: a name
/// with a `/` is taken as given; otherwise the first absolute PATH entry
/// (empty and relative ones, which mean the current directory, are
/// skipped: gosu's CVE-2025-47906) holding an executable file of that name,
/// else the first holding such a name at all (its exec then says why).
/// Looked up as whoever runs it, so after the drop it sees what the
/// target may see. None when nothing is found: command not found.
pub fn search_path(command: &str) -> Option<String> {
    if command.contains('/') {
        return Some(command.to_owned());
    }
    if command.is_empty() {
        return None;
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| OsString::from(EXECVP_PATH));
    let mut found = None;
    // A directory that is not UTF-8 cannot be named in the command's argv.
    let dirs = path.as_bytes().split(|&b| b == b':').filter_map(|dir| std::str::from_utf8(dir).ok());
    for dir in dirs.filter(|dir| dir.starts_with('/')) {
        let candidate = format!("{}/{command}", dir.trim_end_matches('/'));
        let Ok(meta) = std::fs::metadata(&candidate) else { continue };
        let executable = meta.is_file() && nix::unistd::access(candidate.as_str(), AccessFlags::X_OK).is_ok();
        if executable {
            return Some(candidate);
        }
        found.get_or_insert(candidate);
    }
    found
}
