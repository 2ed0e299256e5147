//! The user spec as written: `USER[:GROUP]` and `--groups`, parsed but
//! not looked up.

use std::fmt;

use crate::error::{Error, Result};

/// The largest id a spec may name: ids are signed in too many places
/// (gosu, su-exec, shells) for anything above to mean what the user thinks.
const MAX_ID: u32 = 2_147_483_647;

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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn group_lists() {
        assert_eq!(parse_groups("daemon,50"), Ok(vec![name("daemon"), Id::Number(50)]));
        for bad in ["", ",", "1,", "-1", "4294967295", "a b"] {
            assert!(parse_groups(bad).is_err(), "{bad:?}");
        }
    }
}
