//! The credential change itself, in the order the kernel requires, and the
//! verification that reads the result back.

use std::fmt;

use nix::errno::Errno;
use nix::unistd::{Gid, Uid};

use super::caps::{cap_name, capget, capset, last_cap, prctl, CapSet, CAP_SETUID};
use super::keyring::{self, Session};
use super::{sorted_set, Target};
use crate::error::{Error, Result};

/// The credentials of this process as the kernel reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct State {
    pub(super) uids: [u32; 3],
    pub(super) gids: [u32; 3],
    /// Sorted, without duplicates.
    pub(super) groups: Vec<u32>,
    pub(super) effective: CapSet,
    pub(super) permitted: CapSet,
    pub(super) inheritable: CapSet,
    pub(super) ambient: CapSet,
    pub(super) bounding: CapSet,
    pub(super) no_new_privs: bool,
}

impl State {
    pub(super) fn read() -> Result<State> {
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
    // After setresuid, so that the new keyring belongs to the target.
    let session = keyring::join_new().map_err(|e| step("joining a new session keyring", e))?;
    verify(target, session)
}

/// Reads the real state back and compares it with what was asked.
fn verify(target: &Target, session: Session) -> Result<()> {
    target.matches(&State::read()?)?;
    match (session, keyring::current()) {
        (Session::Joined(joined), Session::Joined(now)) if joined == now => {}
        (Session::Unavailable(_), Session::Unavailable(_)) => {}
        (joined, now) => {
            return Err(mismatch(target, &format!("the session keyring is {now:?}, want the new {joined:?}")));
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::privilege::fixtures::{dropped, node};

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
}
