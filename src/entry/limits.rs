//! `--rlimit NAME=SOFT[:HARD],...`: resource limits for the command, set
//! before the drop, in prlimit(1)'s names and value forms. Every limit is
//! checked against the current one (and the capability a raise needs)
//! before the first is set.

use std::fmt;

use nix::errno::Errno;

use crate::cli;
use crate::error::{Error, Result};
use crate::privilege::{has_effective, CAP_SYS_RESOURCE};

#[cfg(target_env = "gnu")]
type Resource = libc::__rlimit_resource_t;
#[cfg(not(target_env = "gnu"))]
type Resource = libc::c_int;

/// prlimit(1)'s names, in its order.
const NAMES: [(&str, Resource); 16] = [
    ("as", libc::RLIMIT_AS),
    ("core", libc::RLIMIT_CORE),
    ("cpu", libc::RLIMIT_CPU),
    ("data", libc::RLIMIT_DATA),
    ("fsize", libc::RLIMIT_FSIZE),
    ("locks", libc::RLIMIT_LOCKS),
    ("memlock", libc::RLIMIT_MEMLOCK),
    ("msgqueue", libc::RLIMIT_MSGQUEUE),
    ("nice", libc::RLIMIT_NICE),
    ("nofile", libc::RLIMIT_NOFILE),
    ("nproc", libc::RLIMIT_NPROC),
    ("rss", libc::RLIMIT_RSS),
    ("rtprio", libc::RLIMIT_RTPRIO),
    ("rttime", libc::RLIMIT_RTTIME),
    ("sigpending", libc::RLIMIT_SIGPENDING),
    ("stack", libc::RLIMIT_STACK),
];

const UNLIMITED: u64 = libc::RLIM_INFINITY;

/// One limit as asked: prlimit's `V` (both), `S:` (soft only), `:H` (hard
/// only) or `S:H`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Request {
    name: &'static str,
    resource: Resource,
    soft: Option<u64>,
    hard: Option<u64>,
}

/// One limit to set, checked against the current one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    name: &'static str,
    resource: Resource,
    soft: u64,
    hard: u64,
}

/// Parses the list and checks each limit against this process's, changing
/// nothing. `source` names the list in messages (`--rlimit` or `RLIMITS`).
pub fn resolve(source: &str, list: &str) -> Result<Vec<Limit>> {
    let requests = parse(source, list)?;
    let may_raise = has_effective(CAP_SYS_RESOURCE).map_err(|e| Error::sys("capget", e, None))?;
    requests.iter().map(|request| check(source, request, get(request.resource)?, may_raise)).collect()
}

/// Sets every limit. They were checked; what the kernel still refuses (a
/// capability that counts only in the initial user namespace) fails
/// closed: the command never starts, and limits are this process's own.
pub fn apply(limits: &[Limit]) -> Result<()> {
    for limit in limits {
        set(limit.resource, limit.soft, limit.hard)
            .map_err(|e| Error::sys(format!("setting rlimit {limit}"), e, (e == Errno::EPERM).then_some(RAISE_FIX)))?;
    }
    Ok(())
}

const RAISE_FIX: &str = "raising a hard limit needs CAP_SYS_RESOURCE: set it with docker run --ulimit NAME=SOFT:HARD, \
                         or add the capability (--cap-add SYS_RESOURCE)";

/// The info line: `nofile=1024:4096 core=0:0`.
pub struct Shown<'a>(pub &'a [Limit]);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, limit) in self.0.iter().enumerate() {
            write!(f, "{}{limit}", if n == 0 { "" } else { " " })?;
        }
        Ok(())
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}:{}", self.name, Value(self.soft), Value(self.hard))
    }
}

struct Value(u64);

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            UNLIMITED => f.write_str("unlimited"),
            n => write!(f, "{n}"),
        }
    }
}

fn parse(source: &str, list: &str) -> Result<Vec<Request>> {
    let mut requests: Vec<Request> = Vec::new();
    for item in list.split(',') {
        let bad = |why: &str| Error::new(format!("{source} {list:?}: {item:?} {why}"));
        let (name, value) = item.split_once('=').ok_or_else(|| bad("is not NAME=SOFT[:HARD]"))?;
        let (name, resource) = NAMES.iter().copied().find(|(known, _)| *known == name).ok_or_else(|| {
            let names: Vec<&str> = NAMES.iter().map(|(known, _)| *known).collect();
            bad(&format!("names no limit (one of {})", names.join(", ")))
        })?;
        if requests.iter().any(|r| r.name == name) {
            return Err(bad("sets a limit given before"));
        }
        let number = |text: &str| match text {
            "unlimited" | "infinity" => Some(UNLIMITED),
            _ => cli::decimal(text),
        };
        let (soft, hard) = match value.split_once(':') {
            None => {
                let both = number(value).ok_or_else(|| bad("wants a number or unlimited"))?;
                (Some(both), Some(both))
            }
            Some((soft, hard)) => {
                let part = |text: &str| match text {
                    "" => Ok(None),
                    _ => number(text).map(Some).ok_or_else(|| bad("wants a number or unlimited on each side of :")),
                };
                (part(soft)?, part(hard)?)
            }
        };
        if soft.is_none() && hard.is_none() {
            return Err(bad("sets neither the soft nor the hard limit"));
        }
        if let (Some(soft), Some(hard)) = (soft, hard) {
            if soft > hard {
                return Err(bad("has a soft limit above its hard limit"));
            }
        }
        requests.push(Request { name, resource, soft, hard });
    }
    Ok(requests)
}

/// The limit a request makes of the current one, or why it cannot be set.
fn check(source: &str, request: &Request, (soft, hard): (u64, u64), may_raise: bool) -> Result<Limit> {
    let limit = Limit {
        name: request.name,
        resource: request.resource,
        soft: request.soft.unwrap_or(soft),
        hard: request.hard.unwrap_or(hard),
    };
    let what = || format!("{source} {}", limit);
    if limit.soft > limit.hard {
        return Err(Error::new(format!(
            "{}: the soft limit would be above the hard limit {}: give both, e.g. {}={}:{}",
            what(),
            Value(limit.hard),
            limit.name,
            Value(limit.hard),
            Value(limit.hard)
        )));
    }
    if limit.hard > hard && !may_raise {
        return Err(Error::new(format!(
            "{}: raises the hard limit from {} without CAP_SYS_RESOURCE (set it with docker run --ulimit {}, \
             or add the capability: --cap-add SYS_RESOURCE)",
            what(),
            Value(hard),
            limit
        )));
    }
    if request.resource == libc::RLIMIT_NOFILE {
        if let Some(nr_open) = nr_open() {
            if limit.hard > nr_open {
                return Err(Error::new(format!("{}: above the kernel's fs.nr_open ({nr_open})", what())));
            }
        }
    }
    Ok(limit)
}

/// The ceiling of any nofile limit (EPERM above it, capability or not).
fn nr_open() -> Option<u64> {
    cli::decimal(std::fs::read_to_string("/proc/sys/fs/nr_open").ok()?.trim())
}

fn get(resource: Resource) -> Result<(u64, u64)> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes one rlimit, which lives until it returns.
    if unsafe { libc::getrlimit(resource, &mut limit) } != 0 {
        return Err(Error::sys("getrlimit", Errno::last(), None));
    }
    Ok((limit.rlim_cur, limit.rlim_max))
}

fn set(resource: Resource, soft: u64, hard: u64) -> std::result::Result<(), Errno> {
    let limit = libc::rlimit { rlim_cur: soft, rlim_max: hard };
    // SAFETY: setrlimit only reads the rlimit, which lives until it returns.
    if unsafe { libc::setrlimit(resource, &limit) } != 0 {
        return Err(Errno::last());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Request {
        parse("--rlimit", text).unwrap()[0]
    }

    #[test]
    fn values_take_prlimits_forms() {
        assert_eq!((one("nofile=5").soft, one("nofile=5").hard), (Some(5), Some(5)));
        assert_eq!((one("core=0:").soft, one("core=0:").hard), (Some(0), None));
        assert_eq!((one("core=:7").soft, one("core=:7").hard), (None, Some(7)));
        assert_eq!(one("stack=8:unlimited").hard, Some(UNLIMITED));
        assert_eq!(parse("--rlimit", "nofile=1:2,core=0,rttime=infinity").unwrap().len(), 3);
        for bad in [
            "",
            "nofile",
            "nofile=",
            "nofile=:",
            "files=5",
            "NOFILE=5",
            "nofile=-1",
            "nofile=+1",
            "nofile=5:4",
            "nofile=1,nofile=2",
            "nofile=1:2:3",
            "nofile=1,",
            "nofile=0x10",
            "nofile= 5",
        ] {
            let e = parse("RLIMITS", bad).err().unwrap_or_else(|| panic!("{bad:?} accepted"));
            assert!(e.message().starts_with(&format!("RLIMITS {bad:?}")), "{e}");
        }
    }

    #[test]
    fn checks_are_against_the_current_limit() {
        let req = |text| one(text);
        let limit = check("--rlimit", &req("nofile=10:"), (1024, 4096), false).unwrap();
        assert_eq!(limit.to_string(), "nofile=10:4096");
        let e = check("--rlimit", &req("nofile=:10"), (1024, 4096), false).unwrap_err();
        assert!(e.message().contains("soft limit would be above the hard limit 10"), "{e}");
        let e = check("--rlimit", &req("nofile=8192"), (1024, 4096), false).unwrap_err();
        assert!(e.message().contains("raises the hard limit from 4096 without CAP_SYS_RESOURCE"), "{e}");
        assert!(e.message().contains("--ulimit nofile=8192:8192"), "{e}");
        assert!(check("--rlimit", &req("nofile=8192"), (1024, 4096), true).is_ok());
        assert!(check("--rlimit", &req("core=unlimited"), (0, UNLIMITED), false).is_ok());
        assert!(check("--rlimit", &req("nofile=unlimited"), (0, 4096), true).is_err(), "above nr_open");
    }
}
