//! `--own PATH[:UID:GID]`: give a mounted volume, and what is under it, to
//! the user the app runs as, before the drop: the `chown -R` of an
//! entrypoint script, without its holes.
//!
//! - No symlink is followed: a link is given away itself (opened with
//!   O_PATH | O_NOFOLLOW, changed through that descriptor), its target
//!   never. PATH itself must not be one.
//! - No other mount is entered: an entry whose mount id (statx) differs
//!   from PATH's is left alone, with all under it.
//! - Directories are walked by descriptor (openat with O_NOFOLLOW |
//!   O_DIRECTORY, then checked on the descriptor), so a rename or a planted
//!   link during the walk cannot lead it out of the tree.
//! - A file with more than one hard link is left alone: its other names
//!   may be outside the tree (a link the app made, in an earlier run, to a
//!   file of root's on the same mount), and its owner is theirs too.
//! - An entry already owned so is not touched: a second start reads the
//!   tree and writes nothing.

use std::ffi::{CStr, CString};
use std::fmt;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use nix::errno::Errno;

use crate::cli;
use crate::error::{errno_of, Error, Result};
use crate::privilege::{has_effective, CAP_CHOWN};

/// Deeper than any volume's tree; it bounds the descriptors held open (one
/// per level) and the walk's stack.
pub const MAX_DEPTH: usize = 256;

/// One `--own` as given: the path and, when named, the owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    path: String,
    owner: Option<(u32, u32)>,
}

/// A tree to give away, checked: it exists and is not a symlink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Own {
    path: String,
    uid: u32,
    gid: u32,
}

impl fmt::Display for Own {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} to {}:{}", self.path, self.uid, self.gid)
    }
}

/// What a walk did, for the info line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub changed: u64,
    pub already: u64,
    pub mounts: u64,
    pub linked: u64,
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} changed, {} already so", self.changed, self.already)?;
        if self.mounts > 0 {
            write!(f, ", {} other mount(s) left alone", self.mounts)?;
        }
        if self.linked > 0 {
            write!(f, ", {} hard-linked file(s) left alone", self.linked)?;
        }
        Ok(())
    }
}

/// `PATH` or `PATH:UID:GID`: the owner is named when the last two
/// colon-separated fields are numbers (a path may hold colons otherwise).
pub fn parse(source: &str, text: &str) -> Result<Spec> {
    let mut fields = text.rsplitn(3, ':');
    let (gid, uid, path) = (fields.next(), fields.next(), fields.next());
    let spec = match (path, uid.and_then(id), gid.and_then(id)) {
        (Some(path), Some(uid), Some(gid)) => Spec { path: path.to_owned(), owner: Some((uid, gid)) },
        _ => Spec { path: text.to_owned(), owner: None },
    };
    if !spec.path.starts_with('/') {
        return Err(Error::new(format!(
            "{source} {text:?}: the path must be absolute (PATH or PATH:UID:GID, e.g. /data:1000:1000)"
        )));
    }
    Ok(spec)
}

/// A uid or gid: decimal, at most 2^31-1 (-1 would mean "leave as is").
fn id(text: &str) -> Option<u32> {
    cli::decimal::<u32>(text).filter(|&id| id <= i32::MAX as u32)
}

/// Checks every tree before any is touched: it exists and is not a
/// symlink, it has an owner (named, or the user dropped to), and hardbox
/// holds CAP_CHOWN.
pub fn resolve(source: &str, specs: &[Spec], user: Option<(u32, u32)>) -> Result<Vec<Own>> {
    if specs.is_empty() {
        return Ok(Vec::new());
    }
    if !has_effective(CAP_CHOWN).map_err(|e| Error::sys("capget", e, None))? {
        return Err(Error::new(format!("{source} {:?}: needs CAP_CHOWN (docker run --cap-add CHOWN)", specs[0].path)));
    }
    specs
        .iter()
        .map(|spec| {
            let what = || format!("{source} {:?}", spec.path);
            let (uid, gid) = spec.owner.or(user).ok_or_else(|| {
                Error::new(format!("{}: with --no-drop name the owner, as {}:UID:GID", what(), spec.path))
            })?;
            match std::fs::symlink_metadata(&spec.path) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    Err(Error::new(format!("{}: is a symlink, which --own never follows: name its target", what())))
                }
                Ok(_) => Ok(Own { path: spec.path.clone(), uid, gid }),
                Err(e) => Err(Error::sys(what(), errno_of(&e), None)),
            }
        })
        .collect()
}

/// Gives the tree away. An error stops the walk; the command then never
/// starts.
pub fn apply(own: &Own) -> Result<Tally> {
    let fail = |what: &str, e: Errno| failure(own, what, e);
    let path = CString::new(own.path.as_bytes()).map_err(|_| Error::new(format!("--own {own}: holds a NUL byte")))?;
    // O_PATH: a handle on the entry itself (no device is opened, no FIFO
    // blocks), and with O_NOFOLLOW a link swapped in is seen as a link.
    let top = open(None, &path, libc::O_PATH | libc::O_NOFOLLOW).map_err(|e| fail("open", e))?;
    let root = stat(&top, None).map_err(|e| fail("statx", e))?;
    if root.is_symlink() {
        return Err(fail("became a symlink", Errno::ELOOP));
    }
    let mut walk = Walk { own, mount: root.mount, tally: Tally::default() };
    walk.chown(&top, &root).map_err(|e| fail("chown", e))?;
    if root.is_dir() {
        let dir = open(Some(&top), c".", libc::O_RDONLY | libc::O_DIRECTORY).map_err(|e| fail("open", e))?;
        walk.dir(&dir, &own.path, 1)?;
    }
    Ok(walk.tally)
}

/// A failed step of the walk, with the fix where there is one.
fn failure(own: &Own, what: &str, e: Errno) -> Error {
    let hint = match e {
        Errno::EACCES => {
            Some("a directory root cannot read needs CAP_DAC_READ_SEARCH: docker run --cap-add DAC_READ_SEARCH")
        }
        Errno::EPERM => Some("needs CAP_CHOWN: docker run --cap-add CHOWN"),
        Errno::EROFS => Some("a read-only mount: mount the volume read-write"),
        _ => None,
    };
    Error::sys(format!("--own {own}: {what}"), e, hint)
}

struct Walk<'a> {
    own: &'a Own,
    mount: Mount,
    tally: Tally,
}

impl Walk<'_> {
    /// Every entry of the open directory `dir` (at `path`, for messages).
    fn dir(&mut self, dir: &OwnedFd, path: &str, depth: usize) -> Result<()> {
        let own = self.own;
        let fail = |what: String, e: Errno| failure(own, &what, e);
        if depth > MAX_DEPTH {
            return Err(Error::new(format!("--own {}: {path:?} is deeper than {MAX_DEPTH} levels", self.own)));
        }
        for name in list(dir).map_err(|e| fail(format!("reading {path:?}"), e))? {
            // Named only for a message or a directory: a tree already owned
            // is 10,000 entries that need no name.
            let child = || format!("{path}/{}", name.to_string_lossy());
            let at = || format!("{:?}", child());
            let entry = match stat(dir, Some(&name)) {
                Ok(entry) => entry,
                // Removed since it was listed: nothing left to give away.
                Err(Errno::ENOENT) => continue,
                Err(e) => return Err(fail(at(), e)),
            };
            if entry.mount != self.mount {
                self.tally.mounts += 1;
                continue;
            }
            if !entry.is_dir() {
                if self.owns(&entry) {
                    self.tally.already += 1;
                    continue;
                }
                // What is changed is what is checked: a handle on the entry
                // itself (a link stays a link), checked and changed through it.
                let handle = match open(Some(dir), &name, libc::O_PATH | libc::O_NOFOLLOW) {
                    Ok(handle) => handle,
                    Err(Errno::ENOENT) => continue,
                    Err(e) => return Err(fail(at(), e)),
                };
                let opened = stat(&handle, None).map_err(|e| fail(at(), e))?;
                if opened.mount != self.mount {
                    self.tally.mounts += 1;
                } else if opened.nlink > 1 && !opened.is_symlink() && !self.owns(&opened) {
                    self.tally.linked += 1;
                } else if !opened.is_dir() {
                    self.chown(&handle, &opened).map_err(|e| fail(at(), e))?;
                }
                continue;
            }
            let sub = match open(Some(dir), &name, libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW) {
                Ok(sub) => sub,
                // Replaced by a link or a file since the statx: not ours to follow.
                Err(Errno::ELOOP | Errno::ENOTDIR | Errno::ENOENT) => continue,
                Err(e) => return Err(fail(at(), e)),
            };
            // What was opened is what is changed: checked on the descriptor.
            let opened = stat(&sub, None).map_err(|e| fail(at(), e))?;
            if opened.mount != self.mount {
                self.tally.mounts += 1;
                continue;
            }
            self.chown(&sub, &opened).map_err(|e| fail(at(), e))?;
            self.dir(&sub, &child(), depth + 1)?;
        }
        Ok(())
    }

    fn owns(&self, entry: &Entry) -> bool {
        entry.uid == self.own.uid && entry.gid == self.own.gid
    }

    /// Gives the entry open as `handle` away unless it already is. Through
    /// the descriptor (AT_EMPTY_PATH), so it is never a link's target.
    fn chown(&mut self, handle: &OwnedFd, entry: &Entry) -> std::result::Result<(), Errno> {
        if self.owns(entry) {
            self.tally.already += 1;
            return Ok(());
        }
        // SAFETY: `handle` is an open descriptor and the name an empty
        // NUL-terminated string; fchownat reads only these.
        let rc = unsafe {
            libc::fchownat(handle.as_raw_fd(), c"".as_ptr(), self.own.uid, self.own.gid, libc::AT_EMPTY_PATH)
        };
        if rc != 0 {
            return Err(Errno::last());
        }
        self.tally.changed += 1;
        Ok(())
    }
}

/// Where an entry lives: the mount id where the kernel gives it (5.8+),
/// else the device, which at least tells other filesystems apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mount {
    Id(u64),
    Device(u32, u32),
}

struct Entry {
    mode: u32,
    nlink: u32,
    uid: u32,
    gid: u32,
    mount: Mount,
}

impl Entry {
    fn is_dir(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFDIR
    }

    fn is_symlink(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFLNK
    }
}

/// statx of `name` in `dir` without following it, or of `dir` itself when
/// `name` is None. A mount point's entry is the root of the mount on it, so
/// its mount id is the inner mount's.
fn stat(dir: &OwnedFd, name: Option<&CStr>) -> std::result::Result<Entry, Errno> {
    let (name, flags) = match name {
        Some(name) => (name, libc::AT_SYMLINK_NOFOLLOW),
        None => (c"", libc::AT_EMPTY_PATH),
    };
    let mask = libc::STATX_TYPE
        | libc::STATX_MODE
        | libc::STATX_NLINK
        | libc::STATX_UID
        | libc::STATX_GID
        | libc::STATX_MNT_ID;
    // SAFETY: an all-zero statx is valid (plain integers); statx writes
    // only into it and reads the NUL-terminated name.
    let mut buf: libc::statx = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::statx(dir.as_raw_fd(), name.as_ptr(), flags | libc::AT_STATX_DONT_SYNC, mask, &mut buf) };
    if rc != 0 {
        return Err(Errno::last());
    }
    let mount = if buf.stx_mask & libc::STATX_MNT_ID != 0 {
        Mount::Id(buf.stx_mnt_id)
    } else {
        Mount::Device(buf.stx_dev_major, buf.stx_dev_minor)
    };
    Ok(Entry { mode: u32::from(buf.stx_mode), nlink: buf.stx_nlink, uid: buf.stx_uid, gid: buf.stx_gid, mount })
}

/// openat, close-on-exec, relative to `dir` (or the working directory).
fn open(dir: Option<&OwnedFd>, name: &CStr, flags: libc::c_int) -> std::result::Result<OwnedFd, Errno> {
    let at = dir.map_or(libc::AT_FDCWD, |d| d.as_raw_fd());
    // SAFETY: openat reads the NUL-terminated name; a descriptor it returns
    // is ours alone.
    let fd = unsafe { libc::openat(at, name.as_ptr(), flags | libc::O_CLOEXEC | libc::O_NOCTTY) };
    if fd < 0 {
        return Err(Errno::last());
    }
    // SAFETY: fd was just opened and is owned by nothing else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The names in an open directory, `.` and `..` left out. The stream reads
/// a duplicate descriptor, closed with it, so `dir` stays usable for the
/// *at calls and only one descriptor per level stays open during the walk.
fn list(dir: &OwnedFd) -> std::result::Result<Vec<CString>, Errno> {
    // SAFETY: F_DUPFD_CLOEXEC makes a new descriptor of an open one.
    let dup = unsafe { libc::fcntl(dir.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 0) };
    if dup < 0 {
        return Err(Errno::last());
    }
    // SAFETY: on success the stream owns `dup`; on failure we close it.
    let stream = unsafe { libc::fdopendir(dup) };
    if stream.is_null() {
        let e = Errno::last();
        // SAFETY: dup is ours and not owned by a stream.
        unsafe { libc::close(dup) };
        return Err(e);
    }
    // The duplicate shares the original's offset: read from the start.
    // SAFETY: stream is a valid open directory stream.
    unsafe { libc::rewinddir(stream) };
    let mut names = Vec::new();
    let result = loop {
        Errno::clear();
        // SAFETY: stream is valid; the entry it returns is read before the
        // next call.
        let entry = unsafe { libc::readdir(stream) };
        if entry.is_null() {
            break match Errno::last_raw() {
                0 => Ok(()),
                e => Err(Errno::from_raw(e)),
            };
        }
        // SAFETY: d_name is NUL-terminated within the entry.
        let name = unsafe { CStr::from_ptr((*entry).d_name.as_ptr()) };
        if name != c"." && name != c".." {
            names.push(name.to_owned());
        }
    };
    // SAFETY: closes the stream and `dup` with it, once.
    unsafe { libc::closedir(stream) };
    result.map(|()| names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_owner_is_named_by_two_trailing_numbers() {
        let spec = |text| parse("--own", text).unwrap();
        assert_eq!(spec("/data"), Spec { path: "/data".into(), owner: None });
        assert_eq!(spec("/data:1000:1001"), Spec { path: "/data".into(), owner: Some((1000, 1001)) });
        assert_eq!(spec("/a:b:1:2"), Spec { path: "/a:b".into(), owner: Some((1, 2)) });
        assert_eq!(spec("/a:b"), Spec { path: "/a:b".into(), owner: None });
        assert_eq!(spec("/a:1:x").owner, None);
        assert_eq!(spec("/a:1:4294967295").owner, None, "-1 means no change to chown");
        for bad in ["", "data", ":1:2", "relative/x:1:2", "1:2"] {
            assert!(parse("OWN_PATHS", bad).is_err(), "{bad:?}");
        }
    }
}
