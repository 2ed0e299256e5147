//! Who a name or a number is, and which groups a user is in: looked up
//! through uzers (musl's getpwnam_r, getpwuid_r, getgrnam_r, getgrouplist),
//! then checked against the line it came from, read as musl reads it
//! ([`super::lines`]). musl reads an id without an overflow check
//! (99999999999 comes back as 1215752191), so an answer is trusted only when
//! its line spells those very ids.
//!
//! uzers answers None both for "no such entry" and for "could not read the
//! file"; hardbox reads the file itself too, and fails closed either way.

use std::io::ErrorKind;

use super::lines::{self, IdField};
use crate::error::{Error, Result};

const PASSWD: &str = "/etc/passwd";
const GROUP: &str = "/etc/group";

/// uzers' get_user_groups hands getgrouplist a buffer of this many gids
/// and answers None past it.
const UZERS_GROUP_LIMIT: usize = 1024;

/// The /etc/passwd fields a drop needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Account {
    pub(super) name: String,
    pub(super) uid: u32,
    pub(super) gid: u32,
    pub(super) dir: String,
}

/// Where accounts come from: [`System`] in hardbox, uzers' mock users in
/// the unit tests of the user-spec table.
pub(super) trait Accounts {
    /// The user, or an error naming why there is none.
    fn user_by_name(&self, name: &str) -> Result<Account>;
    /// The user, None when there is no entry for it (a bare uid is allowed).
    fn user_by_uid(&self, uid: u32) -> Result<Option<Account>>;
    fn group_by_name(&self, name: &str) -> Result<u32>;
    /// `gid` plus every group that lists `user`, in any order.
    fn member_of(&self, user: &str, gid: u32) -> Result<Vec<u32>>;
}

/// This machine's (or this chroot's) /etc/passwd and /etc/group.
pub(super) struct System;

impl Accounts for System {
    fn user_by_name(&self, name: &str) -> Result<Account> {
        let text = read(PASSWD, &format!("user {name:?}"))?;
        match uzers::get_user_by_name(name) {
            Some(user) => confirm_user(&text, account(&user), Key::Name),
            None if lines::passwd(&text).any(|line| line.name == name.as_bytes()) => {
                Err(lookup_failed(&format!("user {name:?}"), PASSWD))
            }
            None => Err(unknown("user", name, PASSWD)),
        }
    }

    fn user_by_uid(&self, uid: u32) -> Result<Option<Account>> {
        let text = read(PASSWD, &format!("uid {uid}"))?;
        match uzers::get_user_by_uid(uid) {
            Some(user) => confirm_user(&text, account(&user), Key::Uid).map(Some),
            None if lines::passwd(&text).any(|line| line.uid.value == uid) => {
                Err(lookup_failed(&format!("uid {uid}"), PASSWD))
            }
            None => Ok(None),
        }
    }

    fn group_by_name(&self, name: &str) -> Result<u32> {
        let text = read(GROUP, &format!("group {name:?}"))?;
        let first = lines::group(&text).find(|line| line.name == name.as_bytes());
        match (uzers::get_group_by_name(name), first) {
            (Some(group), Some(line)) if line.gid == exact(group.gid()) => Ok(group.gid()),
            (Some(group), Some(line)) => Err(not_spelled(GROUP, line.number, name, &[group.gid()])),
            (Some(_), None) => Err(changed(GROUP, name)),
            (None, Some(_)) => Err(lookup_failed(&format!("group {name:?}"), GROUP)),
            (None, None) => Err(unknown("group", name, GROUP)),
        }
    }

    fn member_of(&self, user: &str, gid: u32) -> Result<Vec<u32>> {
        let text = read(GROUP, &format!("the groups of {user:?}"))?;
        let mut listed = Vec::new();
        for line in lines::group(&text).filter(|line| line.members.contains(&user.as_bytes())) {
            if !line.gid.exact {
                let name = String::from_utf8_lossy(line.name);
                return Err(not_spelled(GROUP, line.number, &name, &[line.gid.value]));
            }
            listed.push(line.gid.value);
        }
        let ours = super::sorted_set(listed.iter().copied().chain([gid]).collect());
        match uzers::get_user_groups(user, gid) {
            // uzers leaves out a gid with no /etc/group line: the primary
            // one may have none, and stays.
            Some(groups) => {
                let theirs = super::sorted_set(groups.iter().map(uzers::Group::gid).chain([gid]).collect());
                if theirs != ours {
                    return Err(changed(GROUP, user));
                }
                Ok(ours)
            }
            // getgrouplist counts the primary gid and every listing line.
            None if 1 + listed.len() > UZERS_GROUP_LIMIT => Ok(ours),
            None => Err(lookup_failed(&format!("the groups of {user:?}"), GROUP)),
        }
    }
}

pub(super) fn account(user: &uzers::User) -> Account {
    use uzers::os::unix::UserExt;
    Account {
        name: user.name().to_string_lossy().into_owned(),
        uid: user.uid(),
        gid: user.primary_group_id(),
        dir: user.home_dir().to_string_lossy().into_owned(),
    }
}

fn exact(value: u32) -> IdField {
    IdField { value, exact: true }
}

#[derive(Clone, Copy)]
enum Key {
    Name,
    Uid,
}

/// The first line musl would have returned for this lookup must spell the
/// uid and gid it returned.
fn confirm_user(text: &[u8], user: Account, key: Key) -> Result<Account> {
    let first = lines::passwd(text).find(|line| match key {
        Key::Name => line.name == user.name.as_bytes(),
        Key::Uid => line.uid.value == user.uid,
    });
    match first {
        Some(line) if [line.uid, line.gid] == [exact(user.uid), exact(user.gid)] => Ok(user),
        Some(line) => Err(not_spelled(PASSWD, line.number, &user.name, &[user.uid, user.gid])),
        None => Err(changed(PASSWD, &user.name)),
    }
}

/// The file's bytes; a missing file (a `FROM scratch` image) has no entries.
fn read(path: &str, what: &str) -> Result<Vec<u8>> {
    match std::fs::read(path) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == ErrorKind::NotFound || e.raw_os_error() == Some(libc::ENOTDIR) => Ok(Vec::new()),
        Err(e) => Err(Error::sys(format!("looking up {what}: reading {path}"), crate::error::errno_of(&e), None)),
    }
}

fn unknown(what: &str, name: &str, path: &str) -> Error {
    Error::new(format!(
        "unknown {what} {name:?}: no such entry in {path} (or {path} could not be read: check that it exists and is readable)"
    ))
}

fn lookup_failed(what: &str, path: &str) -> Error {
    Error::new(format!(
        "looking up {what}: {path} has a line for it, but the lookup found none (could {path} be read?)"
    ))
}

fn changed(path: &str, name: &str) -> Error {
    Error::new(format!("looking up {name:?}: {path} does not say what the lookup returned (was it changed meanwhile?)"))
}

fn not_spelled(path: &str, number: usize, name: &str, ids: &[u32]) -> Error {
    Error::new(format!(
        "{path} line {number} ({name:?}): musl reads its ids as {}, which the line does not spell in decimal \
         (out of range, or empty?): fix the line",
        super::list(ids)
    ))
}
