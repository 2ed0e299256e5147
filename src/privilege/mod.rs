//! Stepping down from root for good, and proving it.
//!
//! Three stages, so that callers can resolve and validate everything before
//! they touch the system: [`UserSpec::parse`] and [`parse_caps`] are pure;
//! [`Target::resolve`] does every lookup (through uzers, each answer checked
//! against the /etc/passwd or /etc/group line it came from) and checks that
//! the drop can succeed; [`drop()`] changes the credentials in the order the
//! kernel requires, then reads the real state back and fails closed on any
//! difference.
//!
//! One file per concept: `spec` (what was written), `accounts` (who a name
//! or number is), `lines` (passwd and group lines as musl reads them),
//! `caps` (capability sets and their system calls), `keyring` (the session
//! keyring), `drop` (the change and its verification), `env` (the
//! command's environment).

use std::fmt;

mod accounts;
mod caps;
mod drop;
mod env;
mod keyring;
mod lines;
#[cfg(test)]
mod matrix;
mod spec;

pub use caps::{cap_name, has_effective, parse_caps, CapSet, CAP_CHOWN, CAP_NAMES, CAP_SYS_RESOURCE};
pub use drop::drop;
pub use env::{apply_environment, search_path};
pub use spec::{parse_groups, Id, UserSpec};

use crate::error::{Error, Result};
use accounts::{Accounts, System};
use caps::{CAP_SETGID, CAP_SETPCAP, CAP_SETUID};
use drop::State;

/// The most supplementary groups a process can have (linux/limits.h; musl's
/// sysconf answers 32, a limit of its own that the kernel does not have).
const NGROUPS_MAX: usize = 65536;

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
        let target = Target::plan(spec, options, &caller, &System)?;
        target.check_preconditions(&caller)?;
        Ok(target)
    }

    /// The user-spec table: who `spec` is, for this caller.
    fn plan(spec: &UserSpec, options: &DropOptions, caller: &State, accounts: &impl Accounts) -> Result<Target> {
        let group_id = |group: &Id| match group {
            // A number need not exist (gosu and the kernel agree).
            Id::Number(gid) => Ok(*gid),
            Id::Name(name) => accounts.group_by_name(name),
        };
        let (uid, entry) = match &spec.user {
            Id::Name(name) => {
                let user = accounts.user_by_name(name)?;
                (user.uid, Some(user))
            }
            Id::Number(uid) => (*uid, accounts.user_by_uid(*uid)?),
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
            (None, None, Some(user)) => accounts.member_of(&user.name, gid)?,
            (None, None, None) => vec![gid],
        };
        let groups = sorted_set(groups);
        if groups.len() > NGROUPS_MAX {
            return Err(Error::new(format!(
                "{name} would be in {} supplementary groups, more than the kernel's NGROUPS_MAX ({NGROUPS_MAX}): \
                 remove memberships from /etc/group, or pass --groups",
                groups.len()
            )));
        }
        let set_groups = groups != caller.groups;
        Ok(Target {
            name,
            uid,
            gid,
            groups,
            home,
            keep: options.keep_caps,
            no_new_privs: !options.allow_new_privs,
            keep_bounding: !privileged && !caller.effective.has(CAP_SETPCAP),
            set_groups,
        })
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

#[cfg(test)]
mod fixtures {
    use super::*;

    pub fn node() -> Target {
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

    pub fn dropped() -> State {
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

    pub fn root_caller() -> State {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use fixtures::{dropped, node, root_caller};

    #[test]
    fn the_description_names_everything() {
        assert_eq!(node().to_string(), "node (uid 1000, gid 1000, groups 27,1000, keeping cap_net_bind_service)");
        let plain = Target { keep: CapSet::EMPTY, groups: vec![], ..node() };
        assert_eq!(plain.to_string(), "node (uid 1000, gid 1000, groups none)");
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
