//! The checkpoint record: what `checkpoint` writes after a successful run, and
//! where.
//!
//! A record is six text lines; the last is the md5 of the five before it, so a
//! torn, truncated or foreign file never parses as a valid record:
//!
//! ```text
//! hardbox-checkpoint 1
//! key 9a312c9d8b035b8c2da417b451f8f92d
//! time 1795856526
//! version 0.1.0
//! command sh -c "echo hi"
//! check 0123456789abcdef0123456789abcdef
//! ```
//!
//! The file lives in a directory that may belong to another root (another
//! process's `/proc/PID/root`, or a directory standing in for one). That
//! directory is opened once, with `..` stopping at the foreign root and no
//! symbolic link followed in any component, and every later step (lock,
//! read, write, rename, remove) is relative to that descriptor: entering the
//! target's mount namespace afterwards cannot change which file is meant.
//! Refusing links outright matters because checkpoint usually runs as root
//! in shared directories: a link another user plants in a sticky `/tmp`
//! would otherwise make root write where that user points.
//!
//! Only a checkpoint record (whole, or torn) is ever replaced or removed, and
//! only a record and a lock owned by the user checkpoint runs as are used.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::time::{SystemTime, UNIX_EPOCH};

use md5::{Digest, Md5};
use nix::errno::Errno;
use nix::fcntl::{openat, openat2, renameat, Flock, FlockArg, OFlag, OpenHow, ResolveFlag, AT_FDCWD};
use nix::sys::stat::{fstat, Mode, SFlag};
use nix::unistd::{fsync, geteuid, unlinkat, UnlinkatFlags};

use crate::error::{Error, Result};

const MAGIC: &str = "hardbox-checkpoint 1";
/// The command line is kept for people reading `--status`, not to decide
/// anything: a long script is cut, which keeps every record small.
const MAX_COMMAND: usize = 1024;
/// No valid record is larger; anything larger is foreign and is not read whole.
const MAX_RECORD: usize = 2048;

/// The md5 of `bytes` as 32 lower-case hex digits (`md5sum`'s spelling).
pub fn md5_hex(bytes: &[u8]) -> String {
    hex(&Md5::digest(bytes))
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where a key's checkpoint lives by default: the prefix (a directory and
/// the start of a name) followed by the md5 of the key.
pub fn default_path(prefix: &str, key: &[u8]) -> String {
    format!("{prefix}{}", md5_hex(key))
}

/// What a successful run leaves behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// md5 hex of the key: the key itself may be long, or secret.
    pub key: String,
    /// Seconds since the epoch, UTC.
    pub time: u64,
    pub version: String,
    pub command: String,
}

impl Record {
    /// A record of a run, now, by this hardbox.
    pub fn new(key: &[u8], command: &[String]) -> Record {
        let time = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        Record { key: md5_hex(key), time, version: env!("CARGO_PKG_VERSION").to_string(), command: quote(command) }
    }

    pub fn encode(&self) -> Vec<u8> {
        let body = format!(
            "{MAGIC}\nkey {}\ntime {}\nversion {}\ncommand {}\n",
            self.key, self.time, self.version, self.command
        );
        format!("{body}check {}\n", md5_hex(body.as_bytes())).into_bytes()
    }

    /// Parses a record, strictly: every line, in order, nothing more, and
    /// the check line must match. The error says what was wrong.
    pub fn parse(bytes: &[u8]) -> std::result::Result<Record, &'static str> {
        if bytes.len() > MAX_RECORD {
            return Err("too large for a checkpoint record");
        }
        if bytes.is_empty() {
            return Err("empty");
        }
        let text = std::str::from_utf8(bytes).map_err(|_| "not text")?;
        let text = text.strip_suffix('\n').ok_or("torn: no final newline")?;
        let (body, check) = text.rsplit_once('\n').ok_or("not a checkpoint record")?;
        let check = check.strip_prefix("check ").ok_or("not a checkpoint record: no check line")?;
        let mut hasher = Md5::new();
        hasher.update(body.as_bytes());
        hasher.update(b"\n");
        if check != hex(&hasher.finalize()) {
            return Err("check line does not match: torn or altered");
        }
        let mut lines = body.split('\n');
        if lines.next() != Some(MAGIC) {
            return Err("not a checkpoint record of this format");
        }
        let key = field(lines.next(), "key")?;
        let time = field(lines.next(), "time")?;
        let version = field(lines.next(), "version")?;
        let command = field(lines.next(), "command")?;
        if lines.next().is_some() {
            return Err("not a checkpoint record: extra lines");
        }
        if key.len() != 32 || !key.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return Err("key is not an md5");
        }
        let seconds: u64 = time.parse().map_err(|_| "time is not a number")?;
        if seconds.to_string() != time || version.is_empty() {
            return Err("time or version malformed");
        }
        Ok(Record { key: key.to_string(), time: seconds, version: version.to_string(), command: command.to_string() })
    }
}

/// Whether bytes that do not parse are still one of ours, torn: a prefix
/// of the first line, or a file that starts with it. Anything else (an
/// empty file included) is someone else's, and is never replaced.
fn is_torn_record(bytes: &[u8]) -> bool {
    let first = format!("{MAGIC}\n");
    !bytes.is_empty() && (bytes.starts_with(first.as_bytes()) || first.as_bytes().starts_with(bytes))
}

fn field<'a>(line: Option<&'a str>, name: &str) -> std::result::Result<&'a str, &'static str> {
    let value = line.and_then(|l| l.strip_prefix(name)).and_then(|l| l.strip_prefix(' ')).ok_or("missing a field")?;
    if value.chars().any(char::is_control) {
        return Err("control character in a field");
    }
    Ok(value)
}

/// The command line as a shell would read it back, on one line, cut to
/// MAX_COMMAND bytes.
fn quote(command: &[String]) -> String {
    let plain =
        |a: &String| !a.is_empty() && a.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b));
    let mut line =
        command.iter().map(|a| if plain(a) { a.clone() } else { format!("{a:?}") }).collect::<Vec<_>>().join(" ");
    if line.len() > MAX_COMMAND {
        let mut cut = MAX_COMMAND;
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        line.truncate(cut);
        line.push_str("...");
    }
    line
}

/// `secs` since the epoch as RFC 3339 UTC, e.g. `2026-11-25T09:02:06Z`.
pub fn utc(secs: u64) -> String {
    let (days, rest) = (secs / 86400, secs % 86400);
    // Civil date from a day count (Howard Hinnant's algorithm), in eras of
    // 400 years starting on 0000-03-01 so that leap days end each year.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rest / 3600, rest % 3600 / 60, rest % 60)
}

/// Whose root FILE is resolved in.
#[derive(Debug, Clone)]
pub enum Root {
    /// hardbox's own: the path means what it says.
    Own,
    /// The root of a process, through `/proc/PID/root`.
    Process(i32),
    /// A directory taken as the root.
    Dir(String),
}

/// What is at the checkpoint's path.
#[derive(Debug)]
pub enum Found {
    Absent,
    Valid(Record),
    /// A record of ours that does not parse (a torn write), with the reason:
    /// replaced by the next successful run.
    Invalid(&'static str),
    /// A regular file that is no record of ours (an empty file a `touch`
    /// made, someone else's file), with the reason: never replaced.
    Foreign(&'static str),
}

/// A checkpoint file: its directory, held open, and its name in it.
pub struct Checkpoint {
    dir: OwnedFd,
    name: String,
    /// The path as the user gave it, with the root it is in, for messages.
    shown: String,
    /// The path as given, which names a lock kept elsewhere.
    path: String,
    /// Where the lock is: `NAME.lock` beside the record unless `lock_in`
    /// moved it.
    lock_dir: Option<OwnedFd>,
    lock_name: String,
    lock_shown: String,
}

/// The exclusive lock on `FILE.lock`, released when dropped.
pub struct Lock {
    _held: Flock<File>,
}

/// A temporary file made before the command runs, proving that the directory
/// takes a new file; removed when dropped uncommitted.
pub struct Pending<'a> {
    checkpoint: &'a Checkpoint,
    file: File,
    committed: bool,
}

impl Checkpoint {
    /// Opens the directory that holds `path` inside `root`. Only the
    /// directory must exist.
    pub fn open(root: &Root, path: &str) -> Result<Checkpoint> {
        let (parent, name) = match path.rsplit_once('/') {
            Some(("", name)) => ("/", name),
            Some((parent, name)) => (parent, name),
            None => (".", path),
        };
        if name.is_empty() || name == "." || name == ".." {
            return Err(Error::new(format!("{path:?}: not a file name (give the checkpoint's path, e.g. /tmp/done)")));
        }
        let shown = in_place(root, path);
        let dir = open_dir(root, parent, &shown)?;
        let lock_shown = in_place(root, &format!("{path}.lock"));
        Ok(Checkpoint {
            dir,
            name: name.to_string(),
            shown,
            path: path.to_string(),
            lock_dir: None,
            lock_name: format!("{name}.lock"),
            lock_shown,
        })
    }

    /// Keeps the lock in directory `dir` of the same root instead of beside
    /// the record: for a record in a shared `/tmp`, a directory (`/run`)
    /// where no other user can create, hold or plant the lock.
    /// The lock is named after the record's whole path, so that records of
    /// the same name in two directories never share one.
    pub fn lock_in(&mut self, root: &Root, dir: &str) -> Result<()> {
        self.lock_name = format!("hardbox-checkpoint_{}.lock", md5_hex(self.path.as_bytes()));
        let path = format!("{}/{}", dir.trim_end_matches('/'), self.lock_name);
        self.lock_shown = in_place(root, &path);
        self.lock_dir = Some(open_dir(root, dir, &self.lock_shown)?);
        Ok(())
    }

    /// The lock's path and root, for messages.
    pub fn lock_shown(&self) -> &str {
        &self.lock_shown
    }

    /// The path and root, for messages.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Takes the lock if no one holds it; None when someone does. A lock
    /// file another user owns is refused: they could hold it forever.
    pub fn try_lock(&self) -> Result<Option<Lock>> {
        let dir = self.lock_dir.as_ref().unwrap_or(&self.dir);
        let flags = OFlag::O_RDWR | OFlag::O_CREAT | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
        let fd = match openat(dir, self.lock_name.as_str(), flags, Mode::from_bits_truncate(0o600)) {
            Ok(fd) => fd,
            Err(Errno::ELOOP) => {
                return Err(Error::new(format!("the lock {}: is a symbolic link (remove it)", self.lock_shown)))
            }
            Err(e) => {
                let hint = match e {
                    Errno::EACCES | Errno::EPERM => {
                        Some("its directory must be writable by the user checkpoint runs as")
                    }
                    _ => None,
                };
                return Err(Error::sys(format!("creating the lock {}", self.lock_shown), e, hint));
            }
        };
        let stat = fstat(&fd).map_err(|e| Error::sys(&self.lock_shown, e, None))?;
        if SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT != SFlag::S_IFREG {
            return Err(Error::new(format!("the lock {}: is not a regular file (remove it)", self.lock_shown)));
        }
        owned_by_us(&format!("the lock {}", self.lock_shown), stat.st_uid)?;
        match Flock::lock(File::from(fd), FlockArg::LockExclusiveNonblock) {
            Ok(held) => Ok(Some(Lock { _held: held })),
            Err((_, Errno::EWOULDBLOCK)) => Ok(None),
            Err((_, e)) => Err(Error::sys(format!("locking {}", self.lock_shown), e, None)),
        }
    }

    /// What is at the path now. A directory, a symlink or a special file
    /// there is an error: the checkpoint is a regular file that this tool
    /// replaces, and it does not follow links out of where it was pointed.
    pub fn read(&self) -> Result<Found> {
        // O_NONBLOCK: a FIFO planted at the path must not hang us.
        let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
        let fd = match openat(&self.dir, self.name.as_str(), flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) => return Ok(Found::Absent),
            Err(Errno::ELOOP) => {
                return Err(Error::new(format!("{}: is a symbolic link (give the real path with --path)", self.shown)))
            }
            Err(e) => return Err(Error::sys(&self.shown, e, None)),
        };
        let stat = fstat(&fd).map_err(|e| Error::sys(&self.shown, e, None))?;
        match SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT {
            SFlag::S_IFREG => {}
            SFlag::S_IFDIR => {
                return Err(Error::new(format!("{}: is a directory (give a file path with --path)", self.shown)))
            }
            _ => return Err(Error::new(format!("{}: is not a regular file", self.shown))),
        }
        owned_by_us(&self.shown, stat.st_uid)?;
        let mut bytes = Vec::new();
        File::from(fd)
            .take(MAX_RECORD as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::new(format!("{}: {e}", self.shown)))?;
        Ok(match Record::parse(&bytes) {
            Ok(record) => Found::Valid(record),
            Err(why) if is_torn_record(&bytes) => Found::Invalid(why),
            Err(why) => Found::Foreign(why),
        })
    }

    /// Makes the temporary file the record will be written to, before the
    /// command runs: an unwritable or full directory fails here, not after.
    pub fn prepare(&self) -> Result<Pending<'_>> {
        let temp = self.temp_name();
        // A run killed after `prepare` leaves its temporary file; we hold the
        // lock, so no one else is using it.
        match unlinkat(&self.dir, temp.as_str(), UnlinkatFlags::NoRemoveDir) {
            Ok(()) | Err(Errno::ENOENT) => {}
            Err(e) => return Err(Error::sys(format!("{}.tmp", self.shown), e, writable_hint(e))),
        }
        let flags = OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        let fd = openat(&self.dir, temp.as_str(), flags, Mode::from_bits_truncate(0o644))
            .map_err(|e| Error::sys(format!("{}.tmp", self.shown), e, writable_hint(e)))?;
        Ok(Pending { checkpoint: self, file: File::from(fd), committed: false })
    }

    /// Deletes the checkpoint; false when there was none.
    pub fn remove(&self) -> Result<bool> {
        match unlinkat(&self.dir, self.name.as_str(), UnlinkatFlags::NoRemoveDir) {
            Ok(()) => {
                fsync(&self.dir).map_err(|e| Error::sys(&self.shown, e, None))?;
                Ok(true)
            }
            Err(Errno::ENOENT) => Ok(false),
            Err(e) => Err(Error::sys(&self.shown, e, writable_hint(e))),
        }
    }

    fn temp_name(&self) -> String {
        format!("{}.tmp", self.name)
    }
}

impl Pending<'_> {
    /// Writes the record and puts it in place atomically: data synced
    /// before the rename, the directory synced after it, so that after a
    /// crash the path holds either the old state or the whole record.
    pub fn commit(mut self, record: &Record) -> Result<()> {
        let checkpoint = self.checkpoint;
        let failed = |what: String| Error::new(format!("{}: {what}", checkpoint.shown));
        self.file.write_all(&record.encode()).map_err(|e| failed(format!("writing: {e}")))?;
        self.file.sync_all().map_err(|e| failed(format!("syncing: {e}")))?;
        let temp = checkpoint.temp_name();
        renameat(&checkpoint.dir, temp.as_str(), &checkpoint.dir, checkpoint.name.as_str())
            .map_err(|e| Error::sys(&checkpoint.shown, e, None))?;
        self.committed = true;
        fsync(&checkpoint.dir)
            .map_err(|e| Error::sys(format!("syncing the directory of {}", checkpoint.shown), e, None))
    }
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if !self.committed {
            let temp = self.checkpoint.temp_name();
            let _ = unlinkat(&self.checkpoint.dir, temp.as_str(), UnlinkatFlags::NoRemoveDir);
        }
    }
}

enum RootError {
    Root(Errno),
    Path(Errno),
}

/// `path` with the root it is in, for messages.
fn in_place(root: &Root, path: &str) -> String {
    match root {
        Root::Own => path.to_string(),
        Root::Process(pid) => format!("{path} in the root of process {pid}"),
        Root::Dir(dir) => format!("{path} under {dir}"),
    }
}

/// Opens directory `path` of `root`, following no symbolic link on the way.
fn open_dir(root: &Root, path: &str, shown: &str) -> Result<OwnedFd> {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
    match root {
        Root::Own => {
            let how = OpenHow::new().flags(flags).resolve(ResolveFlag::RESOLVE_NO_SYMLINKS);
            openat2(AT_FDCWD, path, how).map_err(|e| directory_error(shown, path, e))
        }
        Root::Process(pid) => in_root(&format!("/proc/{pid}/root"), path, flags).map_err(|e| match e {
            RootError::Root(Errno::ENOENT) => Error::new(format!("--target {pid}: no such process")),
            RootError::Root(e) => Error::sys(format!("--target {pid}: opening its root"), e, Some("needs root")),
            RootError::Path(e) => directory_error(shown, path, e),
        }),
        Root::Dir(root) => in_root(root, path, flags).map_err(|e| match e {
            RootError::Root(e) => Error::sys(format!("--root {root}"), e, None),
            RootError::Path(e) => directory_error(shown, path, e),
        }),
    }
}

/// Opens `path` inside `root` as the kernel would for a process whose root
/// that is (`..` stops at it), following no symbolic link at all.
fn in_root(root: &str, path: &str, flags: OFlag) -> std::result::Result<OwnedFd, RootError> {
    let root = openat(AT_FDCWD, root, OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty())
        .map_err(RootError::Root)?;
    let how = OpenHow::new().flags(flags).resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_SYMLINKS);
    openat2(&root, path, how).map_err(RootError::Path)
}

/// A file another user owns is theirs to change at will: using it would
/// let them decide for us (a forged record) or block us (a held lock).
fn owned_by_us(shown: &str, uid: libc::uid_t) -> Result<()> {
    let us = geteuid().as_raw();
    if uid == us {
        return Ok(());
    }
    Err(Error::new(format!("{shown}: owned by uid {uid}, not by uid {us} that checkpoint runs as (remove it)")))
}

fn directory_error(shown: &str, parent: &str, e: Errno) -> Error {
    match e {
        Errno::ELOOP => Error::new(format!(
            "{shown}: {parent} is or passes through a symbolic link, which checkpoint does not follow (give the real path)"
        )),
        Errno::EXDEV => Error::new(format!("{shown}: {parent} leads out of its root (give the real path)")),
        Errno::ENOENT => {
            Error::new(format!("{shown}: directory {parent} does not exist (create it, or choose --path)"))
        }
        Errno::ENOTDIR => Error::new(format!("{shown}: {parent} is not a directory")),
        Errno::ENOSYS => Error::sys(shown, e, Some("resolving inside another root needs openat2, Linux 5.6 or later")),
        _ => Error::sys(format!("{shown}: directory {parent}"), e, writable_hint(e)),
    }
}

fn writable_hint(e: Errno) -> Option<&'static str> {
    match e {
        Errno::EACCES | Errno::EPERM => Some("the checkpoint's directory must be writable; choose --path"),
        Errno::EROFS => Some("choose --path on a writable file system"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Record {
        Record {
            key: md5_hex(b"sh\0-c\0echo hi"),
            time: 1_795_856_526,
            version: "0.1.0".into(),
            command: quote(&["sh".into(), "-c".into(), "echo hi".into()]),
        }
    }

    #[test]
    fn md5_matches_md5sum() {
        // STARTUP_SCRIPT='echo hi'; md5sum <<<"$STARTUP_SCRIPT": the image's own example.
        assert_eq!(md5_hex(b"echo hi\n"), "9a312c9d8b035b8c2da417b451f8f92d");
    }

    #[test]
    fn records_round_trip() {
        let record = sample();
        assert_eq!(Record::parse(&record.encode()), Ok(record));
        assert_eq!(sample().command, r#"sh -c "echo hi""#);
    }

    #[test]
    fn every_truncation_is_rejected() {
        let bytes = sample().encode();
        for len in 0..bytes.len() {
            assert!(Record::parse(&bytes[..len]).is_err(), "prefix of {len} bytes taken as valid");
        }
    }

    #[test]
    fn every_single_byte_change_is_rejected() {
        let bytes = sample().encode();
        for i in 0..bytes.len() {
            for flip in [0x01u8, 0x20, 0x80, 0xff] {
                let mut changed = bytes.clone();
                changed[i] ^= flip;
                assert!(Record::parse(&changed).is_err(), "byte {i} ^ {flip:#x} taken as valid");
            }
        }
    }

    #[test]
    fn only_our_own_torn_records_may_be_replaced() {
        let whole = sample().encode();
        for len in 1..whole.len() {
            assert!(is_torn_record(&whole[..len]), "a record torn at {len} bytes is ours");
        }
        for foreign in [&b""[..], b"\n", b"done\n", b"hardbox", b"root:x:0:0::/root:/bin/sh\n", &[0xff; 40]] {
            assert_eq!(is_torn_record(foreign), foreign == b"hardbox", "{foreign:?}");
        }
    }

    #[test]
    fn foreign_files_are_rejected() {
        for foreign in [&b""[..], b"\n", b"done\n", b"hardbox-checkpoint 1\n", &[0xff; 4000]] {
            assert!(Record::parse(foreign).is_err(), "{foreign:?}");
        }
        // A well-formed file with a good check line but a bad field.
        let body = format!("{MAGIC}\nkey xyz\ntime 1\nversion 0\ncommand c\n");
        let forged = format!("{body}check {}\n", md5_hex(body.as_bytes()));
        assert_eq!(Record::parse(forged.as_bytes()), Err("key is not an md5"));
        let body = format!("{MAGIC}\nkey {}\ntime 01\nversion 0\ncommand c\n", md5_hex(b""));
        let forged = format!("{body}check {}\n", md5_hex(body.as_bytes()));
        assert!(Record::parse(forged.as_bytes()).is_err(), "leading zero");
    }

    #[test]
    fn random_bytes_never_panic_or_pass() {
        // xorshift: reproducible noise without a crate.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let valid = sample().encode();
        for _ in 0..5000 {
            let len = (next() % 300) as usize;
            let noise: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            assert!(Record::parse(&noise).is_err());
            let mut spliced = valid.clone();
            let at = (next() as usize) % spliced.len();
            spliced.splice(at..at, noise.iter().copied().take(3));
            if spliced != valid {
                assert!(Record::parse(&spliced).is_err());
            }
        }
    }

    #[test]
    fn long_commands_are_cut_on_a_char_boundary() {
        let long = vec!["é".repeat(MAX_COMMAND)];
        let line = quote(&long);
        assert!(line.len() <= MAX_COMMAND + 3 && line.ends_with("..."));
        let record = Record { command: line, ..sample() };
        assert!(record.encode().len() <= MAX_RECORD);
        assert_eq!(Record::parse(&record.encode()), Ok(record));
    }

    #[test]
    fn control_characters_are_quoted_away() {
        let line = quote(&["printf".into(), "a\nb\x1b".into()]);
        assert!(!line.chars().any(char::is_control), "{line}");
    }

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc(1_795_856_526), "2026-11-28T09:02:06Z");
        // A parsed record may hold any u64: no overflow, no panic.
        assert!(utc(u64::MAX).ends_with('Z'));
    }
}
