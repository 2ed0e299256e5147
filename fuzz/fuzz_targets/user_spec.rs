//! USER[:GROUP] (dropuser, DROP_TO_USER, --user), and the --groups and
//! --keep-caps lists, one per line of the input. Properties: a spec that
//! parses prints back (USER[:GROUP]) to the same spec; numbers stay within
//! 0..=2147483647; a capability set prints as a list that parses back to it.
#![no_main]

use hardbox::privilege::{parse_caps, parse_groups, Id, UserSpec};
use libfuzzer_sys::fuzz_target;

fn check_id(id: &Id) {
    match id {
        Id::Number(n) => assert!(*n <= 2_147_483_647, "{n} is out of range"),
        Id::Name(name) => {
            assert!(!name.is_empty() && !name.contains(char::is_whitespace), "{name:?}");
            assert!(!name.bytes().all(|b| b.is_ascii_digit()), "{name:?} is a number read as a name");
        }
    }
}

fuzz_target!(|text: &str| {
    let mut lines = text.splitn(3, '\n');
    let spec = lines.next().unwrap_or_default();
    if let Ok(parsed) = UserSpec::parse(spec) {
        check_id(&parsed.user);
        parsed.group.iter().for_each(check_id);
        let names = [Some(&parsed.user), parsed.group.as_ref()];
        assert!(!names.iter().flatten().any(|id| id.to_string().contains(':')), "{spec:?}: a ':' in a name");
        let printed = match &parsed.group {
            Some(group) => format!("{}:{group}", parsed.user),
            None => parsed.user.to_string(),
        };
        assert_eq!(UserSpec::parse(&printed).ok(), Some(parsed), "{spec:?} printed as {printed:?}");
    }
    if let Some(groups) = lines.next() {
        if let Ok(ids) = parse_groups(groups) {
            assert_eq!(ids.len(), groups.split(',').count());
            ids.iter().for_each(check_id);
        }
    }
    if let Some(caps) = lines.next() {
        if let Ok(set) = parse_caps(caps) {
            if !set.is_empty() {
                assert_eq!(parse_caps(&set.to_string()).ok(), Some(set), "{caps:?} printed as {set}");
            }
        }
    }
});
