//! What a `docker-entrypoint.sh` did with a shell before it exec'd the app,
//! as steps of dhi-bootstrap's plan (issue 15): secrets from files, the
//! umask, resource limits, the ownership of mounted volumes. Each module
//! resolves and checks its step without changing anything, then applies it.

pub mod limits;
pub mod own;
pub mod secrets;
pub mod umask;

/// capability(7) numbers of the capabilities these steps need.
pub const CAP_CHOWN: u32 = 0;
pub const CAP_SYS_RESOURCE: u32 = 24;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_effective_set_is_what_proc_says() {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let hex = status.lines().find_map(|line| line.strip_prefix("CapEff:")).unwrap().trim();
        let eff = u64::from_str_radix(hex, 16).unwrap();
        for cap in [CAP_CHOWN, CAP_SYS_RESOURCE, 40] {
            assert_eq!(crate::privilege::has_effective(cap).unwrap(), eff & (1 << cap) != 0, "cap {cap}");
        }
    }
}
