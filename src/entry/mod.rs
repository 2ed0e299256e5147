//! What a `docker-entrypoint.sh` did with a shell before it exec'd the app,
//! as steps of dhi-bootstrap's plan (issue 15): secrets from files, the
//! umask, resource limits, the ownership of mounted volumes. Each module
//! resolves and checks its step without changing anything, then applies it.

pub mod limits;
pub mod own;
pub mod secrets;
pub mod umask;

use nix::errno::Errno;

/// capability(7) numbers of the capabilities these steps need.
pub const CAP_CHOWN: u32 = 0;
pub const CAP_SYS_RESOURCE: u32 = 24;

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

/// Whether `cap` is in this process's effective set, so that a step that
/// needs it is refused before anything changes rather than half done.
pub fn has_capability(cap: u32) -> Result<bool, Errno> {
    let mut header = CapHeader { version: CAPABILITY_VERSION_3, pid: 0 };
    let mut data = [CapData::default(); 2];
    // SAFETY: capget writes two CapData (version 3) and reads the header;
    // both live until the call returns.
    let rc = unsafe { libc::syscall(libc::SYS_capget, &mut header as *mut CapHeader, data.as_mut_ptr()) };
    if rc != 0 {
        return Err(Errno::last());
    }
    let word = data.get(cap as usize / 32).map_or(0, |d| d.effective);
    Ok(word & (1 << (cap % 32)) != 0)
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
            assert_eq!(has_capability(cap).unwrap(), eff & (1 << cap) != 0, "cap {cap}");
        }
    }
}
