//! The README's user-spec table as data, row by row (gosu's test matrix),
//! over uzers' mock users: the rules of [`Target::plan`] without root or
//! files. tests/dropuser.rs runs the same rows for real, in a chroot.
//!
//! Test code only (`#[cfg(test)]` in mod.rs): its `expect`s are assertions
//! on a row, and fail the test that reaches them.

use uzers::mock::{Group, MockUsers, User};
use uzers::os::unix::{GroupExt, UserExt};
use uzers::{AllGroups, Groups, Users};

use super::accounts::{account, Account, Accounts};
use super::fixtures::{dropped, root_caller};
use super::*;

impl Accounts for MockUsers {
    fn user_by_name(&self, name: &str) -> Result<Account> {
        let user = Users::get_user_by_name(self, name);
        user.map(|user| account(&user)).ok_or_else(|| Error::new(format!("unknown user {name:?}")))
    }

    fn user_by_uid(&self, uid: u32) -> Result<Option<Account>> {
        Ok(Users::get_user_by_uid(self, uid).map(|user| account(&user)))
    }

    fn group_by_name(&self, name: &str) -> Result<u32> {
        let group = Groups::get_group_by_name(self, name);
        group.map(|group| group.gid()).ok_or_else(|| Error::new(format!("unknown group {name:?}")))
    }

    fn member_of(&self, user: &str, gid: u32) -> Result<Vec<u32>> {
        let listing = self.get_all_groups().filter(|group| group.members().iter().any(|member| member == user));
        Ok(listing.map(Group::gid).chain([gid]).collect())
    }
}

/// tests/dropuser.rs's /etc/passwd and /etc/group.
fn image() -> MockUsers {
    let mut users = MockUsers::with_current_uid(0);
    let passwd: &[(u32, &str, u32, &str)] = &[
        (0, "root", 0, "/root"),
        (1, "daemon", 1, "/usr/sbin"),
        (5, "games", 60, "/usr/games"),
        (1000, "node", 1000, "/home/node"),
        (1001, "multi", 1001, "/home/multi"),
        (1002, "orphan", 4321, "/home/orphan"),
        (1003, "nohome", 1003, ""),
        (65534, "nobody", 65534, "/nonexistent"),
    ];
    for &(uid, name, gid, home) in passwd {
        users.add_user(User::new(uid, name, gid).with_home_dir(home));
    }
    let group: &[(u32, &str, &[&str])] = &[
        (0, "root", &[]),
        (1, "daemon", &[]),
        (29, "audio", &["multi", "orphan"]),
        (44, "video", &["multi"]),
        (50, "staff", &[]),
        (60, "games", &[]),
        (1000, "node", &[]),
        (1001, "multi", &[]),
        (65534, "nogroup", &[]),
    ];
    for &(gid, name, members) in group {
        users.add_group(members.iter().fold(Group::new(gid, name), |group, member| group.add_member(member)));
    }
    users
}

/// What a row becomes: (name, uid, gid, groups, home), or a refusal.
type Want = std::result::Result<(&'static str, u32, u32, &'static [u32], &'static str), &'static str>;

fn plan(options: &[&str], spec: &str, caller: &State, users: &MockUsers) -> Result<Target> {
    let mut drop = DropOptions::default();
    let mut options = options.iter();
    while let Some(&option) = options.next() {
        match option {
            "--allow-root" => drop.allow_root = true,
            "--groups" => drop.groups = Some(parse_groups(options.next().expect("a list"))?),
            other => panic!("no such option in the table: {other}"),
        }
    }
    let target = Target::plan(&UserSpec::parse(spec)?, &drop, caller, users)?;
    target.check_preconditions(caller)?;
    Ok(target)
}

fn check(rows: &[(&[&str], &str, Want)], caller: &State, users: &MockUsers) {
    for (options, spec, want) in rows {
        let row = format!("{options:?} {spec}");
        match (plan(options, spec, caller, users), want) {
            (Ok(target), Ok((name, uid, gid, groups, home))) => {
                let got = (target.name.as_str(), target.uid, target.gid, &target.groups[..], target.home.as_str());
                assert_eq!(got, (*name, *uid, *gid, *groups, *home), "{row}");
            }
            (Err(e), Err(needle)) => assert!(e.message().contains(needle), "{row}: {e}"),
            (got, want) => panic!("{row}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn as_root_every_row_of_the_user_spec_table() {
    let root: &[&str] = &["--allow-root"];
    #[rustfmt::skip]
    let rows: &[(&[&str], &str, Want)] = &[
        (root, "0", Ok(("root", 0, 0, &[0], "/root"))),
        (root, "0:0", Ok(("root", 0, 0, &[0], "/root"))),
        (root, "root", Ok(("root", 0, 0, &[0], "/root"))),
        (root, "root:root", Ok(("root", 0, 0, &[0], "/root"))),
        (root, "0:1000", Ok(("root", 0, 1000, &[1000], "/root"))),
        (&[], "1000", Ok(("node", 1000, 1000, &[1000], "/home/node"))),
        (&[], "node", Ok(("node", 1000, 1000, &[1000], "/home/node"))),
        (&[], "1000:root", Ok(("node", 1000, 0, &[0], "/home/node"))),
        (&[], "1000:daemon", Ok(("node", 1000, 1, &[1], "/home/node"))),
        (&[], "games", Ok(("games", 5, 60, &[60], "/usr/games"))),
        (&[], "games:daemon", Ok(("games", 5, 1, &[1], "/usr/games"))),
        (&[], "multi", Ok(("multi", 1001, 1001, &[29, 44, 1001], "/home/multi"))),
        (&[], "multi:video", Ok(("multi", 1001, 44, &[44], "/home/multi"))),
        // The primary gid stays though no /etc/group line names it.
        (&[], "orphan", Ok(("orphan", 1002, 4321, &[29, 4321], "/home/orphan"))),
        (&[], "nohome", Ok(("nohome", 1003, 1003, &[1003], "/"))),
        // No passwd entry: gid = uid, never the caller's 0 (gosu's hole).
        (&[], "4242", Ok(("4242", 4242, 4242, &[4242], "/"))),
        (&[], "4242:daemon", Ok(("4242", 4242, 1, &[1], "/"))),
        (&[], "4242:777", Ok(("4242", 4242, 777, &[777], "/"))),
        (&[], "007", Ok(("7", 7, 7, &[7], "/"))),
        (&[], "nobody", Ok(("nobody", 65534, 65534, &[65534], "/nonexistent"))),
        (&["--groups", "daemon,50,9999"], "node", Ok(("node", 1000, 1000, &[1, 50, 9999], "/home/node"))),
        (&["--groups", "staff"], "4242:daemon", Ok(("4242", 4242, 1, &[50], "/"))),
        (&[], "0", Err("--allow-root")),
        (&[], "root:root", Err("--allow-root")),
        (&[], "bogus", Err("unknown user \"bogus\"")),
        (&[], "0day", Err("unknown user \"0day\"")),
        (&[], "node:bogus", Err("unknown group \"bogus\"")),
        (root, "0:0day", Err("unknown group \"0day\"")),
        (&["--groups", "bogus"], "node", Err("unknown group \"bogus\"")),
        (&[], "+1000", Err("sign")),
        (&[], "1000:", Err("empty group")),
        (&[], "4294967295", Err("out of range")),
        (&[], "a:b:c", Err("more than one ':'")),
    ];
    check(rows, &root_caller(), &image());
}

#[test]
fn as_a_non_root_caller_only_itself() {
    // uid 1000 with gid 1000 and no supplementary groups.
    let caller = State { groups: vec![], ..dropped() };
    #[rustfmt::skip]
    let rows: &[(&[&str], &str, Want)] = &[
        (&[], "node", Ok(("node", 1000, 1000, &[], "/home/node"))),
        (&[], "1000", Ok(("node", 1000, 1000, &[], "/home/node"))),
        // It cannot change its groups, so it cannot take GROUP's.
        (&[], "node:node", Err("must run as root to become node (uid 1000, gid 1000, groups 1000)")),
        (&[], "games", Err("must run as root to become games (running as uid 1000)")),
        (&[], "nobody", Err("must run as root to become nobody")),
        (&[], "4242", Err("must run as root to become 4242")),
    ];
    check(rows, &caller, &image());
}

#[test]
fn up_to_the_kernels_ngroups_max_and_no_further() {
    let mut users = image();
    // 65535 listing groups plus the primary: exactly NGROUPS_MAX.
    for gid in 100_000..100_000 + 65_535 {
        users.add_group(Group::new(gid, &format!("g{gid}")).add_member("node"));
    }
    let target = plan(&[], "node", &root_caller(), &users).expect("65536 groups");
    assert_eq!(target.groups.len(), NGROUPS_MAX);
    users.add_group(Group::new(99_999, "one-more").add_member("node"));
    let e = plan(&[], "node", &root_caller(), &users).expect_err("65537 groups");
    assert!(e.message().contains("65537 supplementary groups, more than the kernel's NGROUPS_MAX (65536)"), "{e}");
}
