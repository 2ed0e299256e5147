//! Stepping down from root for good, and proving it.
//!
//! Three stages, so that callers can resolve and validate everything before
//! they touch the system: [`UserSpec::parse`] and [`parse_caps`] are pure;
//! [`Target::resolve`] does every lookup (/etc/passwd and /etc/group through
//! musl's getpwnam_r/getgrnam_r/getgrouplist, which return lookup errors
//! apart from "no such entry", unlike uzers) and checks that the drop
//! can succeed; [`drop`] changes the credentials in the order the kernel
//! requires, then reads the real state back and fails closed on any
//! difference.

use std::fmt;

use nix::errno::Errno;
use nix::unistd::{Gid, Uid};

use crate::error::{Error, Result};

/// The largest id a spec may name: ids are signed in too many places
/// (gosu, su-exec, shells) for anything above to mean what the user thinks.
const MAX_ID: u32 = 2_147_483_647;

/// PATH after `--reset-env`: Docker's default.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The capability names, indexed by number (linux/capability.h).
const CAP_NAMES: [&str; 41] = [
    "chown",
    "dac_override",
    "dac_read_search",
    "fowner",
    "fsetid",
    "kill",
    "setgid",
    "setuid",
    "setpcap",
    "linux_immutable",
    "net_bind_service",
    "net_broadcast",
    "net_admin",
    "net_raw",
    "ipc_lock",
    "ipc_owner",
    "sys_module",
    "sys_rawio",
    "sys_chroot",
    "sys_ptrace",
    "sys_pacct",
    "sys_admin",
    "sys_boot",
    "sys_nice",
    "sys_resource",
    "sys_time",
    "sys_tty_config",
    "mknod",
    "lease",
    "audit_write",
    "audit_control",
    "setfcap",
    "mac_override",
    "mac_admin",
    "syslog",
    "wake_alarm",
    "block_suspend",
    "audit_read",
    "perfmon",
    "bpf",
    "checkpoint_restore",
];

const CAP_SETGID: u32 = 6;
const CAP_SETUID: u32 = 7;
const CAP_SETPCAP: u32 = 8;

/// A user or group as written: a name, or a number in 0..=2147483647.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Id {
    Name(String),
    Number(u32),
}

impl Id {
    /// One token of a spec. A token that starts with a digit but is not all
    /// digits (`0day`) is a name, as in gosu; a sign is never accepted.
    fn parse(token: &str, what: &str) -> Result<Id> {
        if token.is_empty() {
            return Err(Error::new(format!("empty {what}")));
        }
        if let Some(bad) = token.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return Err(Error::new(format!("{what} {token:?} contains {bad:?}")));
        }
        if token.starts_with(['+', '-']) {
            return Err(Error::new(format!("{what} {token:?} has a sign: write a name or a number 0..{MAX_ID}")));
        }
        if !token.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(Id::Name(token.to_owned()));
        }
        match token.parse::<u32>() {
            Ok(n) if n <= MAX_ID => Ok(Id::Number(n)),
            _ => Err(Error::new(format!("{what} {token} is out of range 0..{MAX_ID}"))),
        }
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Id::Name(name) => f.write_str(name),
            Id::Number(n) => write!(f, "{n}"),
        }
    }
}

/// `USER[:GROUP]`, parsed but not looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSpec {
    pub user: Id,
    pub group: Option<Id>,
}

impl UserSpec {
    pub fn parse(spec: &str) -> Result<UserSpec> {
        let invalid = |e: Error| Error::new(format!("invalid user spec {spec:?}: {e} (want USER[:GROUP])"));
        let (user, group) = match spec.split_once(':') {
            None => (spec, None),
            Some((_, group)) if group.contains(':') => {
                return Err(invalid(Error::new("more than one ':'")));
            }
            Some((user, group)) => (user, Some(group)),
        };
        let user = Id::parse(user, "user").map_err(invalid)?;
        let group = group.map(|g| Id::parse(g, "group")).transpose().map_err(invalid)?;
        Ok(UserSpec { user, group })
    }
}

/// `GID|NAME[,...]`, for `--groups`.
pub fn parse_groups(list: &str) -> Result<Vec<Id>> {
    list.split(',')
        .map(|token| Id::parse(token, "group"))
        .collect::<Result<_>>()
        .map_err(|e| Error::new(format!("invalid group list {list:?}: {e}")))
}

/// A set of capabilities, one bit per capability number.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CapSet(u64);

impl CapSet {
    pub const EMPTY: CapSet = CapSet(0);

    pub fn has(self, cap: u32) -> bool {
        cap < 64 && self.0 & (1 << cap) != 0
    }

    fn with(self, cap: u32) -> CapSet {
        CapSet(self.0 | (1 << cap))
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    fn is_subset(self, of: CapSet) -> bool {
        self.0 & !of.0 == 0
    }

    fn caps(self) -> impl Iterator<Item = u32> {
        (0..64).filter(move |&cap| self.has(cap))
    }
}

/// `cap_net_bind_service,cap_kill` or `CAP_NET_BIND_SERVICE`.
impl fmt::Display for CapSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        let names: Vec<String> = self.caps().map(cap_name).collect();
        f.write_str(&names.join(","))
    }
}

pub fn cap_name(cap: u32) -> String {
    match CAP_NAMES.get(cap as usize) {
        Some(name) => format!("cap_{name}"),
        None => format!("cap_{cap}"),
    }
}

/// A `--keep-caps` list: names, case-insensitive, with or without `CAP_`.
pub fn parse_caps(list: &str) -> Result<CapSet> {
    let mut set = CapSet::EMPTY;
    for token in list.split(',') {
        let lower = token.to_ascii_lowercase();
        let bare = lower.strip_prefix("cap_").unwrap_or(&lower);
        match CAP_NAMES.iter().position(|name| *name == bare) {
            Some(cap) => set = set.with(cap as u32),
            None if token.is_empty() => {
                return Err(Error::new(format!("invalid capability list {list:?}: empty name")));
            }
            None => {
                return Err(Error::new(format!(
                    "unknown capability {token:?} in {list:?} (names as in capabilities(7), e.g. net_bind_service)"
                )))
            }
        }
    }
    Ok(set)
}

/// What the caller asks for besides the user spec.
#[derive(Debug, Clone, Default)]
pub struct DropOptions {
    /// Capabilities the target keeps: in the bounding, permitted, effective,
    /// inheritable and ambient sets, so that they survive exec.
    pub keep_caps: CapSet,
    /// The exact supplementary group list, instead of /etc/group's.
    pub groups: Option<Vec<Id>>,
    /// Allow uid 0 as the target: root without capabilities.
    pub allow_root: bool,
    /// Leave no_new_privs unset (setuid programs and file capabilities work).
    pub allow_new_privs: bool,
}

/// Who to become, with every lookup done and every precondition checked.
/// Nothing has been changed yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The passwd name, or the decimal uid when there is no entry.
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    /// The supplementary groups, sorted, without duplicates.
    pub groups: Vec<u32>,
    /// From passwd, or `/` when there is no entry or it names none.
    pub home: String,
    pub keep: CapSet,
    no_new_privs: bool,
    /// The caller lacks CAP_SETPCAP (only possible when it is not root): the
    /// bounding set stays, and no_new_privs keeps file capabilities shut.
    keep_bounding: bool,
    /// setgroups needs CAP_SETGID even to set the same list: skipped when
    /// the groups are already right.
    set_groups: bool,
}

/// `node (uid 1000, gid 1000, groups 1000)`, for logs.
impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (uid {}, gid {}, groups {}", self.name, self.uid, self.gid, list(&self.groups))?;
        if !self.keep.is_empty() {
            write!(f, ", keeping {}", self.keep)?;
        }
        f.write_str(")")
    }
}

impl Target {
    /// Looks up the spec and checks that this process can become it. A
    /// non-root caller can only become its own uid; its gid and groups are
    /// then the ones it runs with, unless GROUP or `--groups` named others,
    /// which must already be in place (it cannot change them).
    pub fn resolve(spec: &UserSpec, options: &DropOptions) -> Result<Target> {
        let caller = State::read()?;
        let (uid, entry) = match &spec.user {
            Id::Name(name) => {
                let user = user_by_name(name)?;
                (user.uid, Some(user))
            }
            Id::Number(uid) => (*uid, user_by_uid(*uid)?),
        };
        let name = entry.as_ref().map_or_else(|| uid.to_string(), |user| user.name.clone());
        let home = match entry.as_ref().map(|user| user.dir.clone()) {
            Some(dir) if !dir.is_empty() => dir,
            _ => "/".to_owned(),
        };
        if uid == 0 && !options.allow_root {
            return Err(Error::new(format!(
                "refusing to become {name} (uid 0): pass --allow-root for root without capabilities, or name another user"
            )));
        }
        let privileged = caller.uids[1] == 0;
        if !privileged && uid != caller.uids[1] {
            return Err(Error::new(format!("must run as root to become {name} (running as uid {})", caller.uids[1])));
        }
        let gid = match (&spec.group, &entry) {
            (Some(group), _) => group_id(group)?,
            (None, _) if !privileged => caller.gids[1],
            (None, Some(user)) => user.gid,
            (None, None) => uid,
        };
        let groups = match (&options.groups, &spec.group, &entry) {
            (Some(list), _, _) => list.iter().map(group_id).collect::<Result<Vec<u32>>>()?,
            (None, Some(_), _) => vec![gid],
            (None, None, _) if !privileged => caller.groups.clone(),
            (None, None, Some(user)) => member_of(&user.name, gid)?,
            (None, None, None) => vec![gid],
        };
        let groups = sorted_set(groups);
        let set_groups = groups != caller.groups;
        let target = Target {
            name,
            uid,
            gid,
            groups,
            home,
            keep: options.keep_caps,
            no_new_privs: !options.allow_new_privs,
            keep_bounding: !privileged && !caller.effective.has(CAP_SETPCAP),
            set_groups,
        };
        target.check_preconditions(&caller)?;
        Ok(target)
    }

    /// Refuses, before anything changes, a drop that would fail half-way.
    fn check_preconditions(&self, caller: &State) -> Result<()> {
        let available = CapSet(caller.permitted.0 & caller.bounding.0);
        if !self.keep.is_subset(available) {
            let missing = CapSet(self.keep.0 & !available.0);
            return Err(Error::new(format!(
                "cannot keep {missing}: this process does not have it (docker run --cap-add, or drop it from --keep-caps)"
            )));
        }
        // Unprivileged, setresuid and setresgid may pick only ids the process
        // already has, and setgroups is never allowed.
        let needs = [
            (CAP_SETPCAP, !self.keep_bounding && caller.bounding != self.keep),
            (CAP_SETGID, self.set_groups || !caller.gids.contains(&self.gid)),
            (CAP_SETUID, !caller.uids.contains(&self.uid)),
        ];
        match needs.into_iter().find(|&(cap, needed)| needed && !caller.effective.has(cap)) {
            None => Ok(()),
            Some(_) if caller.uids[1] != 0 => Err(Error::new(format!(
                "must run as root to become {self} (running as uid {}, gid {}, groups {})",
                caller.uids[1],
                caller.gids[1],
                list(&caller.groups)
            ))),
            Some((cap, _)) => Err(Error::new(format!(
                "becoming {self} needs {}, which this process lacks (docker run --cap-add {})",
                cap_name(cap),
                CAP_NAMES[cap as usize].to_ascii_uppercase()
            ))),
        }
    }
}

fn list(ids: &[u32]) -> String {
    if ids.is_empty() {
        return "none".to_owned();
    }
    ids.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

/// Sorted, without duplicates. BinaryHeap's heap sort is O(n log n) like
/// sort_unstable, in 3.7 kB less of binary: these lists are small.
fn sorted_set(ids: Vec<u32>) -> Vec<u32> {
    let mut ids = std::collections::BinaryHeap::from(ids).into_sorted_vec();
    ids.dedup();
    ids
}

fn unknown_user(name: &str) -> Error {
    Error::new(format!("unknown user {name:?}: no such entry in /etc/passwd"))
}

/// musl reports a missing /etc/passwd or /etc/group as ENOENT: for a
/// `FROM scratch` image that simply means "no entry".
fn absent(errno: Errno) -> bool {
    matches!(errno, Errno::ENOENT | Errno::ENOTDIR)
}

fn user_by_name(name: &str) -> Result<Passwd> {
    let key = std::ffi::CString::new(name).map_err(|_| unknown_user(name))?;
    match passwd(Key::Name(&key)) {
        Ok(Some(user)) => checked(user),
        Ok(None) => Err(unknown_user(name)),
        Err(e) if absent(e) => Err(unknown_user(name)),
        Err(e) => Err(Error::sys(format!("looking up user {name:?} in /etc/passwd"), e, None)),
    }
}

fn user_by_uid(uid: u32) -> Result<Option<Passwd>> {
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
fn group_id(group: &Id) -> Result<u32> {
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
struct Passwd {
    name: String,
    uid: u32,
    gid: u32,
    dir: String,
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
fn member_of(user: &str, gid: u32) -> Result<Vec<u32>> {
    let cname = std::ffi::CString::new(user).map_err(|_| unknown_user(user))?;
    let groups = nix::unistd::getgrouplist(&cname, Gid::from_raw(gid))
        .map_err(|e| Error::sys(format!("listing the groups of {user:?} in /etc/group"), e, None))?;
    let groups: Vec<u32> = groups.into_iter().map(Gid::as_raw).collect();
    for &other in groups.iter().filter(|&&g| g != gid) {
        spelled("/etc/group", "", Some(user), &[other])?;
    }
    Ok(groups)
}

/// The credentials of this process as the kernel reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
struct State {
    uids: [u32; 3],
    gids: [u32; 3],
    /// Sorted, without duplicates.
    groups: Vec<u32>,
    effective: CapSet,
    permitted: CapSet,
    inheritable: CapSet,
    ambient: CapSet,
    bounding: CapSet,
    no_new_privs: bool,
}

impl State {
    fn read() -> Result<State> {
        let fail = |what: &str, e: Errno| Error::sys(format!("reading {what}"), e, None);
        let uids = nix::unistd::getresuid().map_err(|e| fail("the uids", e))?;
        let gids = nix::unistd::getresgid().map_err(|e| fail("the gids", e))?;
        let groups = sorted_set(
            nix::unistd::getgroups().map_err(|e| fail("the groups", e))?.into_iter().map(Gid::as_raw).collect(),
        );
        let (effective, permitted, inheritable) = capget().map_err(|e| fail("the capabilities", e))?;
        let mut ambient = CapSet::EMPTY;
        let mut bounding = CapSet::EMPTY;
        for cap in 0..=last_cap() {
            if prctl(libc::PR_CAPBSET_READ, cap as libc::c_ulong, 0).map_err(|e| fail("the bounding set", e))? == 1 {
                bounding = bounding.with(cap);
            }
            let set = prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_IS_SET as libc::c_ulong, cap as libc::c_ulong)
                .map_err(|e| fail("the ambient set", e))?;
            if set == 1 {
                ambient = ambient.with(cap);
            }
        }
        let no_new_privs = prctl(libc::PR_GET_NO_NEW_PRIVS, 0, 0).map_err(|e| fail("no_new_privs", e))? == 1;
        Ok(State {
            uids: [uids.real.as_raw(), uids.effective.as_raw(), uids.saved.as_raw()],
            gids: [gids.real.as_raw(), gids.effective.as_raw(), gids.saved.as_raw()],
            groups,
            effective,
            permitted,
            inheritable,
            ambient,
            bounding,
            no_new_privs,
        })
    }
}

/// Becomes the target for good, in the order the kernel requires, then
/// verifies. On error the process is in an unknown state and must not run
/// the command (it exits 125).
pub fn drop(target: &Target) -> Result<()> {
    let step = |what: &str, e: Errno| Error::sys(format!("becoming {target}: {what}"), e, None);
    if target.no_new_privs {
        prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0).map_err(|e| step("setting no_new_privs", e))?;
    }
    prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong, 0)
        .map_err(|e| step("clearing the ambient set", e))?;
    // Needs CAP_SETPCAP, which the uid change below takes away.
    if !target.keep_bounding {
        for cap in (0..=last_cap()).filter(|&cap| !target.keep.has(cap)) {
            prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0)
                .map_err(|e| step(&format!("dropping {} from the bounding set", cap_name(cap)), e))?;
        }
    }
    if target.set_groups {
        let groups: Vec<Gid> = target.groups.iter().copied().map(Gid::from_raw).collect();
        nix::unistd::setgroups(&groups).map_err(|e| step("setgroups", e))?;
    }
    let gid = Gid::from_raw(target.gid);
    nix::unistd::setresgid(gid, gid, gid).map_err(|e| step("setresgid", e))?;
    // Without it the uid change empties the permitted set, and with it the
    // capabilities we are asked to keep.
    if !target.keep.is_empty() {
        prctl(libc::PR_SET_KEEPCAPS, 1, 0).map_err(|e| step("setting keepcaps", e))?;
    }
    let uid = Uid::from_raw(target.uid);
    nix::unistd::setresuid(uid, uid, uid).map_err(|e| step("setresuid", e))?;
    capset(target.keep).map_err(|e| step("capset", e))?;
    // A non-root uid loses everything at exec except the ambient set.
    for cap in target.keep.caps() {
        prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong, cap as libc::c_ulong)
            .map_err(|e| step(&format!("raising {} in the ambient set", cap_name(cap)), e))?;
    }
    verify(target)
}

/// Reads the real state back and compares it with what was asked.
fn verify(target: &Target) -> Result<()> {
    target.matches(&State::read()?)?;
    if target.uid != 0 && !target.keep.has(CAP_SETUID) {
        match nix::unistd::setuid(Uid::from_raw(0)) {
            Err(Errno::EPERM) => {}
            Ok(()) => return Err(mismatch(target, "setuid(0) succeeded")),
            Err(e) => return Err(mismatch(target, &format!("setuid(0) failed with {e} instead of EPERM"))),
        }
    }
    Ok(())
}

fn mismatch(target: &Target, what: &str) -> Error {
    Error::new(format!("verifying the drop to {target} failed: {what}; not running the command"))
}

impl Target {
    fn matches(&self, state: &State) -> Result<()> {
        let differs = |what: &str, got: &dyn fmt::Debug, want: &dyn fmt::Debug| {
            Err(mismatch(self, &format!("{what} are {got:?}, want {want:?}")))
        };
        if state.uids != [self.uid; 3] {
            return differs("uids (real, effective, saved)", &state.uids, &self.uid);
        }
        if state.gids != [self.gid; 3] {
            return differs("gids (real, effective, saved)", &state.gids, &self.gid);
        }
        if state.groups != self.groups {
            return differs("groups", &state.groups, &self.groups);
        }
        let sets = [
            ("effective", state.effective),
            ("permitted", state.permitted),
            ("inheritable", state.inheritable),
            ("ambient", state.ambient),
        ];
        for (name, set) in sets {
            if set != self.keep {
                return Err(mismatch(self, &format!("{name} capabilities are {set}, want {}", self.keep)));
            }
        }
        if !self.keep_bounding && state.bounding != self.keep {
            return Err(mismatch(self, &format!("bounding set is {}, want {}", state.bounding, self.keep)));
        }
        if self.no_new_privs && !state.no_new_privs {
            return Err(mismatch(self, "no_new_privs is not set"));
        }
        Ok(())
    }
}

/// Sets HOME, USER and LOGNAME from the target; with `reset`, first removes
/// everything but TERM and sets a default PATH. hardbox has no threads, so
/// changing the environment races with nothing.
pub fn apply_environment(target: &Target, reset: bool) {
    if reset {
        for (key, _) in std::env::vars_os() {
            if key != "TERM" {
                std::env::remove_var(key);
            }
        }
        std::env::set_var("PATH", DEFAULT_PATH);
    }
    std::env::set_var("HOME", &target.home);
    std::env::set_var("USER", &target.name);
    std::env::set_var("LOGNAME", &target.name);
}

/// prctl for the options that take only integers. Returns its result.
fn prctl(option: libc::c_int, arg2: libc::c_ulong, arg3: libc::c_ulong) -> std::result::Result<i32, Errno> {
    // SAFETY: every option used here reads integer arguments and writes no
    // memory; the unused trailing arguments must be zero.
    let rc = unsafe { libc::prctl(option, arg2, arg3, 0 as libc::c_ulong, 0 as libc::c_ulong) };
    if rc < 0 {
        Err(Errno::last())
    } else {
        Ok(rc)
    }
}

/// The highest capability this kernel knows: the first number the bounding
/// set read refuses, minus one.
fn last_cap() -> u32 {
    (0..64).take_while(|&cap| prctl(libc::PR_CAPBSET_READ, cap, 0).is_ok()).last().unwrap_or(0) as u32
}

/// linux/capability.h's _LINUX_CAPABILITY_VERSION_3: two 32-bit words per set.
const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// This process's (effective, permitted, inheritable) sets.
fn capget() -> std::result::Result<(CapSet, CapSet, CapSet), Errno> {
    let mut header = CapHeader { version: CAPABILITY_VERSION_3, pid: 0 };
    let mut data = [CapData::default(); 2];
    // SAFETY: version 3 makes the kernel write exactly two CapData, which
    // `data` holds; pid 0 is this thread.
    let rc = unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) };
    if rc != 0 {
        return Err(Errno::last());
    }
    let join = |low: u32, high: u32| CapSet(u64::from(low) | u64::from(high) << 32);
    Ok((
        join(data[0].effective, data[1].effective),
        join(data[0].permitted, data[1].permitted),
        join(data[0].inheritable, data[1].inheritable),
    ))
}

/// Sets the effective, permitted and inheritable sets all to `caps`.
fn capset(caps: CapSet) -> std::result::Result<(), Errno> {
    let mut header = CapHeader { version: CAPABILITY_VERSION_3, pid: 0 };
    let (low, high) = (caps.0 as u32, (caps.0 >> 32) as u32);
    let data = [
        CapData { effective: low, permitted: low, inheritable: low },
        CapData { effective: high, permitted: high, inheritable: high },
    ];
    // SAFETY: version 3 makes the kernel read exactly two CapData from
    // `data`; pid 0 is this thread.
    let rc = unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) };
    if rc != 0 {
        return Err(Errno::last());
    }
    Ok(())
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

    fn name(s: &str) -> Id {
        Id::Name(s.to_owned())
    }

    #[test]
    fn user_specs_row_by_row() {
        use Id::Number as N;
        let good: &[(&str, Id, Option<Id>)] = &[
            ("0", N(0), None),
            ("0:0", N(0), Some(N(0))),
            ("root", name("root"), None),
            ("0:root", N(0), Some(name("root"))),
            ("root:0", name("root"), Some(N(0))),
            ("root:root", name("root"), Some(name("root"))),
            ("1000", N(1000), None),
            ("0:1000", N(0), Some(N(1000))),
            ("1000:1000", N(1000), Some(N(1000))),
            ("root:1000", name("root"), Some(N(1000))),
            ("1000:root", N(1000), Some(name("root"))),
            ("1000:daemon", N(1000), Some(name("daemon"))),
            ("games", name("games"), None),
            ("games:daemon", name("games"), Some(name("daemon"))),
            ("0day", name("0day"), None),
            ("0:0day", N(0), Some(name("0day"))),
            ("2147483647", N(2_147_483_647), None),
            ("007", N(7), None),
            ("www-data", name("www-data"), None),
            ("n\u{e9}e", name("n\u{e9}e"), None),
        ];
        for (spec, user, group) in good {
            let want = UserSpec { user: user.clone(), group: group.clone() };
            assert_eq!(UserSpec::parse(spec), Ok(want), "{spec:?}");
        }
        let bad: &[(&str, &str)] = &[
            ("", "empty user"),
            (":0", "empty user"),
            ("1000:", "empty group"),
            (":", "empty user"),
            ("+1000", "sign"),
            ("-1", "sign"),
            ("1000:-1", "sign"),
            ("1000:+5", "sign"),
            ("-node", "sign"),
            (" 1000", "contains ' '"),
            ("1000 ", "contains ' '"),
            ("10 00", "contains ' '"),
            ("node\t", "contains '\\t'"),
            ("node\n", "contains '\\n'"),
            ("4294967295", "out of range"),
            ("2147483648", "out of range"),
            ("99999999999999999999", "out of range"),
            ("0:4294967295", "out of range"),
            ("1000:1000:1000", "more than one ':'"),
        ];
        for (spec, why) in bad {
            let e = UserSpec::parse(spec).expect_err(spec);
            assert!(e.message().contains(why), "{spec:?}: {e}");
            assert!(e.message().contains(&format!("{spec:?}")), "names the spec: {e}");
            assert_eq!(e.status(), 125);
        }
    }

    #[test]
    fn the_parser_survives_anything_and_accepts_only_clean_specs() {
        let alphabet = ['0', '1', '2', '7', '9', ':', '+', '-', ' ', '\t', 'a', 'z', '\u{e9}', '\0', ','];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..200_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 12) as usize;
            let spec: String = (0..len).map(|i| alphabet[((seed >> (4 * i)) % 15) as usize]).collect();
            let Ok(parsed) = UserSpec::parse(&spec) else { continue };
            assert!(!spec.contains([' ', '\t', '\0']), "{spec:?}");
            assert!(spec.split(':').all(|part| !part.is_empty() && !part.starts_with(['+', '-'])), "{spec:?}");
            let again = match &parsed.group {
                Some(group) => format!("{}:{group}", parsed.user),
                None => parsed.user.to_string(),
            };
            assert_eq!(UserSpec::parse(&again), Ok(parsed), "{spec:?}");
        }
    }

    #[test]
    fn capability_names() {
        let net = CapSet::EMPTY.with(10);
        for list in ["net_bind_service", "CAP_NET_BIND_SERVICE", "Cap_Net_Bind_Service", "NET_BIND_SERVICE"] {
            assert_eq!(parse_caps(list), Ok(net), "{list}");
        }
        assert_eq!(parse_caps("chown,checkpoint_restore,chown"), Ok(CapSet((1 << 40) | 1)));
        assert_eq!(net.to_string(), "cap_net_bind_service");
        assert_eq!(CapSet(0x3).to_string(), "cap_chown,cap_dac_override");
        for bad in ["", "bogus", "net_bind_service,", "cap_", "net bind service", "10", "all"] {
            let e = parse_caps(bad).expect_err(bad);
            assert!(e.message().contains(&format!("{bad:?}")), "{e}");
        }
    }

    #[test]
    fn group_lists() {
        assert_eq!(parse_groups("daemon,50"), Ok(vec![name("daemon"), Id::Number(50)]));
        for bad in ["", ",", "1,", "-1", "4294967295", "a b"] {
            assert!(parse_groups(bad).is_err(), "{bad:?}");
        }
    }

    fn node() -> Target {
        Target {
            name: "node".into(),
            uid: 1000,
            gid: 1000,
            groups: vec![27, 1000],
            home: "/home/node".into(),
            keep: CapSet::EMPTY.with(10),
            no_new_privs: true,
            keep_bounding: false,
            set_groups: true,
        }
    }

    fn dropped() -> State {
        let kept = CapSet::EMPTY.with(10);
        State {
            uids: [1000; 3],
            gids: [1000; 3],
            groups: vec![27, 1000],
            effective: kept,
            permitted: kept,
            inheritable: kept,
            ambient: kept,
            bounding: kept,
            no_new_privs: true,
        }
    }

    #[test]
    fn the_description_names_everything() {
        assert_eq!(node().to_string(), "node (uid 1000, gid 1000, groups 27,1000, keeping cap_net_bind_service)");
        let plain = Target { keep: CapSet::EMPTY, groups: vec![], ..node() };
        assert_eq!(plain.to_string(), "node (uid 1000, gid 1000, groups none)");
    }

    #[test]
    fn verification_accepts_exactly_the_target() {
        assert_eq!(node().matches(&dropped()), Ok(()));
        let off: Vec<(&str, State)> = vec![
            ("saved", State { uids: [1000, 1000, 0], ..dropped() }),
            ("gids", State { gids: [1000, 0, 1000], ..dropped() }),
            ("groups", State { groups: vec![0, 27, 1000], ..dropped() }),
            ("effective", State { effective: CapSet(0x400 | 1 << 21), ..dropped() }),
            ("permitted", State { permitted: CapSet::EMPTY, ..dropped() }),
            ("inheritable", State { inheritable: CapSet(!0), ..dropped() }),
            ("ambient", State { ambient: CapSet::EMPTY, ..dropped() }),
            ("bounding", State { bounding: CapSet(0x1ff_ffff_ffff), ..dropped() }),
            ("no_new_privs", State { no_new_privs: false, ..dropped() }),
        ];
        for (what, state) in off {
            let e = node().matches(&state).expect_err(what);
            assert!(e.message().contains(what), "{what}: {e}");
            assert!(e.message().contains("not running the command"), "{e}");
        }
    }

    #[test]
    fn what_a_non_root_caller_cannot_change_is_not_demanded() {
        let unprivileged = Target { keep_bounding: true, no_new_privs: true, ..node() };
        assert_eq!(unprivileged.matches(&State { bounding: CapSet(0x1ff_ffff_ffff), ..dropped() }), Ok(()));
        let new_privs = Target { no_new_privs: false, ..node() };
        assert_eq!(new_privs.matches(&State { no_new_privs: false, ..dropped() }), Ok(()));
    }

    fn root_caller() -> State {
        let all = CapSet(0x1ff_ffff_ffff);
        State {
            uids: [0; 3],
            gids: [0; 3],
            groups: vec![0],
            effective: all,
            permitted: all,
            inheritable: CapSet::EMPTY,
            ambient: CapSet::EMPTY,
            bounding: all,
            no_new_privs: false,
        }
    }

    #[test]
    fn group_lists_are_sorted_without_duplicates() {
        assert_eq!(sorted_set(vec![50, 0, 7, 50, 4294967294, 7, 1]), [0, 1, 7, 50, 4294967294]);
        assert_eq!(sorted_set(Vec::new()), Vec::<u32>::new());
    }

    #[test]
    fn preconditions_refuse_a_drop_that_would_stop_half_way() {
        assert_eq!(node().check_preconditions(&root_caller()), Ok(()));
        let without = |cap: u32| State { effective: CapSet(root_caller().effective.0 & !(1 << cap)), ..root_caller() };
        for (cap, name) in [(CAP_SETUID, "cap_setuid"), (CAP_SETGID, "cap_setgid"), (CAP_SETPCAP, "cap_setpcap")] {
            let e = node().check_preconditions(&without(cap)).expect_err(name);
            assert!(e.message().contains(name), "{e}");
            assert!(e.message().contains(&format!("--cap-add {})", name["cap_".len()..].to_uppercase())), "{e}");
        }
        let no_net = State { permitted: CapSet(1), ..root_caller() };
        let e = node().check_preconditions(&no_net).expect_err("keep");
        assert!(e.message().contains("cannot keep cap_net_bind_service"), "{e}");

        let as_node = State { effective: CapSet::EMPTY, permitted: CapSet::EMPTY, ..dropped() };
        let itself = Target { keep: CapSet::EMPTY, keep_bounding: true, set_groups: false, ..node() };
        assert_eq!(itself.check_preconditions(&as_node), Ok(()));
        let other_group = Target { gid: 50, ..itself.clone() };
        let e = other_group.check_preconditions(&as_node).expect_err("gid");
        assert!(e.message().contains("must run as root to become node"), "{e}");
        assert!(e.message().contains("running as uid 1000"), "{e}");
    }
}
