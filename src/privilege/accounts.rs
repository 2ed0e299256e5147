//! /etc/passwd and /etc/group: who a name or a number is, and which groups
//! a user is in.

use nix::errno::Errno;
use nix::unistd::Gid;

use super::list;
use super::spec::Id;
use crate::error::{Error, Result};

fn unknown_user(name: &str) -> Error {
    Error::new(format!("unknown user {name:?}: no such entry in /etc/passwd"))
}

/// musl reports a missing /etc/passwd or /etc/group as ENOENT: for a
/// `FROM scratch` image that simply means "no entry".
fn absent(errno: Errno) -> bool {
    matches!(errno, Errno::ENOENT | Errno::ENOTDIR)
}

pub(super) fn user_by_name(name: &str) -> Result<Passwd> {
    let key = std::ffi::CString::new(name).map_err(|_| unknown_user(name))?;
    match passwd(Key::Name(&key)) {
        Ok(Some(user)) => checked(user),
        Ok(None) => Err(unknown_user(name)),
        Err(e) if absent(e) => Err(unknown_user(name)),
        Err(e) => Err(Error::sys(format!("looking up user {name:?} in /etc/passwd"), e, None)),
    }
}

pub(super) fn user_by_uid(uid: u32) -> Result<Option<Passwd>> {
    match passwd(Key::Uid(uid)) {
        Ok(user) => user.map(checked).transpose(),
        Err(e) if absent(e) => Ok(None),
        Err(e) => Err(Error::sys(format!("looking up uid {uid} in /etc/passwd"), e, None)),
    }
}

fn checked(user: Passwd) -> Result<Passwd> {
    spelled("/etc/passwd", &user.name, None, &[user.uid, user.gid])?;
    Ok(user)
}

/// musl reads an id field without an overflow check (99999999999 comes back
/// as 1215752191), so what it found is trusted only if a line of `path`
/// spells those very `ids` in decimal, from the third field on: the first
/// line for `name`, or with no `name`, any line listing `member`.
fn spelled(path: &str, name: &str, member: Option<&str>, ids: &[u32]) -> Result<()> {
    let text = std::fs::read(path).map_err(|e| Error::new(format!("reading {path}: {e}")))?;
    if spells(&text, name, member, ids) {
        return Ok(());
    }
    Err(Error::new(format!(
        "{path}: no line for {:?} spells its ids ({}) in decimal (out of range?): fix the line",
        member.unwrap_or(name),
        list(ids)
    )))
}

fn spells(text: &[u8], name: &str, member: Option<&str>, ids: &[u32]) -> bool {
    let decimal = |f: &&[u8], id: &u32| {
        !f.is_empty() && f.iter().all(u8::is_ascii_digit) && f.len() <= 10 && {
            f.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0')) == u64::from(*id)
        }
    };
    let good = |f: &[&[u8]]| f.len() >= 2 + ids.len() && f[2..].iter().zip(ids).all(|(f, id)| decimal(f, id));
    let mut lines = text.split(|&b| b == b'\n').map(|line| line.split(|&b| b == b':').collect::<Vec<_>>());
    match member {
        None => lines.find(|f| f[0] == name.as_bytes()).is_some_and(|f| good(&f)),
        Some(member) => {
            lines.any(|f| f.get(3).is_some_and(|m| m.split(|&b| b == b',').any(|m| m == member.as_bytes())) && good(&f))
        }
    }
}

/// A group name must exist; a number need not (gosu and the kernel agree).
pub(super) fn group_id(group: &Id) -> Result<u32> {
    let name = match group {
        Id::Number(gid) => return Ok(*gid),
        Id::Name(name) => name,
    };
    let unknown = || Error::new(format!("unknown group {name:?}: no such entry in /etc/group"));
    let key = std::ffi::CString::new(name.as_str()).map_err(|_| unknown())?;
    match group_by_name(&key) {
        Ok(Some(gid)) => spelled("/etc/group", name, None, &[gid]).map(|()| gid),
        Ok(None) => Err(unknown()),
        Err(e) if absent(e) => Err(unknown()),
        Err(e) => Err(Error::sys(format!("looking up group {name:?} in /etc/group"), e, None)),
    }
}

/// The /etc/passwd fields a drop needs.
pub(super) struct Passwd {
    pub(super) name: String,
    pub(super) uid: u32,
    pub(super) gid: u32,
    pub(super) dir: String,
}

enum Key<'a> {
    Name(&'a std::ffi::CStr),
    Uid(u32),
}

/// getpwnam_r/getpwuid_r: the entry, None when there is none, or the
/// lookup's error. The buffer doubles on ERANGE up to 1 MiB, as nix's did.
fn passwd(key: Key<'_>) -> std::result::Result<Option<Passwd>, Errno> {
    let mut buffer = vec![0 as libc::c_char; 16384];
    loop {
        // SAFETY: passwd is plain integers and pointers, for which all zeroes is valid.
        let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: entry, buffer (for its length) and found are valid and
        // writable for the call; the name is NUL-terminated.
        let rc = unsafe {
            match key {
                Key::Name(name) => {
                    libc::getpwnam_r(name.as_ptr(), &mut entry, buffer.as_mut_ptr(), buffer.len(), &mut found)
                }
                Key::Uid(uid) => libc::getpwuid_r(uid, &mut entry, buffer.as_mut_ptr(), buffer.len(), &mut found),
            }
        };
        match rc {
            0 if found.is_null() => return Ok(None),
            0 => {
                let text = |field: *const libc::c_char| match field.is_null() {
                    true => String::new(),
                    // SAFETY: on success each non-null field is a NUL-terminated
                    // string in buffer, which is alive and unchanged here.
                    false => unsafe { std::ffi::CStr::from_ptr(field) }.to_string_lossy().into_owned(),
                };
                return Ok(Some(Passwd {
                    name: text(entry.pw_name),
                    uid: entry.pw_uid,
                    gid: entry.pw_gid,
                    dir: text(entry.pw_dir),
                }));
            }
            libc::ERANGE if buffer.len() < 1 << 20 => buffer.resize(buffer.len() * 2, 0),
            errno => return Err(Errno::from_raw(errno)),
        }
    }
}

/// getgrnam_r: the group's gid, None when there is none, or the lookup's
/// error. The buffer doubles on ERANGE up to 1 MiB, as nix's did.
fn group_by_name(name: &std::ffi::CStr) -> std::result::Result<Option<u32>, Errno> {
    let mut buffer = vec![0 as libc::c_char; 16384];
    loop {
        // SAFETY: group is plain integers and pointers, for which all zeroes is valid.
        let mut entry: libc::group = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::group = std::ptr::null_mut();
        // SAFETY: entry, buffer (for its length) and found are valid and
        // writable for the call; the name is NUL-terminated.
        let rc = unsafe { libc::getgrnam_r(name.as_ptr(), &mut entry, buffer.as_mut_ptr(), buffer.len(), &mut found) };
        match rc {
            0 if found.is_null() => return Ok(None),
            0 => return Ok(Some(entry.gr_gid)),
            libc::ERANGE if buffer.len() < 1 << 20 => buffer.resize(buffer.len() * 2, 0),
            errno => return Err(Errno::from_raw(errno)),
        }
    }
}

/// The primary gid plus every /etc/group entry that lists the user.
/// getgrouplist puts the primary gid first even when no /etc/group line
/// names it (uzers filters such gids out again).
pub(super) fn member_of(user: &str, gid: u32) -> Result<Vec<u32>> {
    let cname = std::ffi::CString::new(user).map_err(|_| unknown_user(user))?;
    let groups = nix::unistd::getgrouplist(&cname, Gid::from_raw(gid))
        .map_err(|e| Error::sys(format!("listing the groups of {user:?} in /etc/group"), e, None))?;
    let groups: Vec<u32> = groups.into_iter().map(Gid::as_raw).collect();
    for &other in groups.iter().filter(|&&g| g != gid) {
        spelled("/etc/group", "", Some(user), &[other])?;
    }
    Ok(groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_must_spell_the_ids_musl_read() {
        // Found by tests/faults.rs: musl read 99999999999 as 1215752191.
        let passwd = b"root:x:0:0::/:/bin/sh\nbig:x:99999999999:1::/:/bin/sh\napp:x:0001234:1234::/:/bin/sh\n\
                      plus:x:+8:8::/:/bin/sh\nshort:x:9\napp:x:5:5::/:/bin/sh\nhex:x:0x10:0::/:/bin/sh";
        assert!(spells(passwd, "root", None, &[0, 0]));
        assert!(spells(passwd, "app", None, &[1234, 1234]), "leading zeros are still decimal");
        assert!(!spells(passwd, "app", None, &[5, 5]), "the first line for a name counts");
        assert!(!spells(passwd, "big", None, &[1_215_752_191, 1]));
        assert!(!spells(passwd, "plus", None, &[8, 8]));
        assert!(!spells(passwd, "short", None, &[9, 0]));
        assert!(!spells(passwd, "hex", None, &[16, 0]));
        assert!(!spells(passwd, "nobody", None, &[65534, 65534]));
        let group = b"big:x:99999999999:app\nstaff:x:50:root,app\n:::\n";
        assert!(spells(group, "", Some("app"), &[50]));
        assert!(!spells(group, "", Some("app"), &[1_215_752_191]));
        assert!(!spells(group, "", Some("root"), &[1_215_752_191]));
    }
}
