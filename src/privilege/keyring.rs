//! The session keyring: a process keeps its caller's across setresuid, and
//! possesses (so may read) every key in it. After the drop the command gets
//! a new, empty one of its own, as runc gives each container.

use nix::errno::Errno;

// linux/keyctl.h (libc does not export them for musl).
const KEYCTL_GET_KEYRING_ID: libc::c_ulong = 0;
const KEYCTL_JOIN_SESSION_KEYRING: libc::c_ulong = 1;
const KEY_SPEC_SESSION_KEYRING: libc::c_long = -3;

/// The keyring the command will have, or None when this kernel or a seccomp
/// filter (Docker's default refuses keyctl) leaves keyrings out of reach
/// altogether, for the command as much as for us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Session {
    Joined(i64),
    Unavailable(Errno),
}

/// Joins a new anonymous session keyring, owned by the current uid.
pub(super) fn join_new() -> Result<Session, Errno> {
    // SAFETY: a null name asks for an anonymous keyring; nothing is read
    // or written through the arguments.
    let rc = unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, 0 as libc::c_ulong) };
    match rc {
        0.. => Ok(Session::Joined(rc)),
        _ => match Errno::last() {
            errno @ (Errno::ENOSYS | Errno::EPERM) => Ok(Session::Unavailable(errno)),
            errno => Err(errno),
        },
    }
}

/// The session keyring this process has now, as the command would find it.
pub(super) fn current() -> Session {
    // SAFETY: integer arguments only; create = 0 makes none.
    let rc =
        unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0 as libc::c_long) };
    match rc {
        0.. => Session::Joined(rc),
        _ => Session::Unavailable(Errno::last()),
    }
}
