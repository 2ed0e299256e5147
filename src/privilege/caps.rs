//! Capability sets: names, parsing, and the kernel's capget/capset and
//! prctl calls that read and change them.

use std::fmt;

use nix::errno::Errno;

use crate::error::{Error, Result};

/// The capability names, indexed by number (linux/capability.h).
pub const CAP_NAMES: [&str; 41] = [
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

/// capability(7) numbers: the entrypoint steps need CHOWN (--own) and
/// SYS_RESOURCE (raising a hard limit); the drop needs the other three.
pub const CAP_CHOWN: u32 = 0;
pub const CAP_SYS_RESOURCE: u32 = 24;
pub(super) const CAP_SETGID: u32 = 6;
pub(super) const CAP_SETUID: u32 = 7;
pub(super) const CAP_SETPCAP: u32 = 8;

/// A set of capabilities, one bit per capability number.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CapSet(pub(super) u64);

impl CapSet {
    pub const EMPTY: CapSet = CapSet(0);

    pub fn has(self, cap: u32) -> bool {
        cap < 64 && self.0 & (1 << cap) != 0
    }

    pub(super) fn with(self, cap: u32) -> CapSet {
        CapSet(self.0 | (1 << cap))
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub(super) fn is_subset(self, of: CapSet) -> bool {
        self.0 & !of.0 == 0
    }

    pub(super) fn caps(self) -> impl Iterator<Item = u32> {
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

/// prctl for the options that take only integers. Returns its result.
pub(super) fn prctl(option: libc::c_int, arg2: libc::c_ulong, arg3: libc::c_ulong) -> std::result::Result<i32, Errno> {
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
pub(super) fn last_cap() -> u32 {
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
pub(super) fn capget() -> std::result::Result<(CapSet, CapSet, CapSet), Errno> {
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

/// Whether `cap` is in this process's effective set: for a step that needs
/// it to be refused before anything changes rather than half done.
pub fn has_effective(cap: u32) -> std::result::Result<bool, Errno> {
    Ok(capget()?.0.has(cap))
}

/// Sets the effective, permitted and inheritable sets all to `caps`.
pub(super) fn capset(caps: CapSet) -> std::result::Result<(), Errno> {
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
    fn the_effective_set_is_what_proc_says() {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let hex = status.lines().find_map(|line| line.strip_prefix("CapEff:")).unwrap().trim();
        let eff = u64::from_str_radix(hex, 16).unwrap();
        for cap in [CAP_CHOWN, CAP_SYS_RESOURCE, 40] {
            assert_eq!(has_effective(cap).unwrap(), eff & (1 << cap) != 0, "cap {cap}");
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
}
