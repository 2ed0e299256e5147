//! The wire: one NETLINK_ROUTE socket, requests out, answers in.

use std::io;
use std::mem::size_of;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use nix::errno::Errno;

use super::print::attributes;
use super::print::c_string;
use super::print::u32_of;
use super::*;

pub(super) struct Wire {
    pub(super) socket: OwnedFd,
    seq: u32,
}

impl Wire {
    pub(super) fn open() -> io::Result<Wire> {
        let socket = route_socket()?;
        // The kernel's reason ("Nexthop has invalid gateway") makes a better
        // message than EINVAL alone; old kernels lack it, which costs nothing.
        enable_ext_ack(&socket);
        Ok(Wire { socket, seq: 0 })
    }

    /// Sends one request and collects the payloads of the answer: a dump's
    /// messages up to DONE, or nothing up to the ACK.
    pub(super) fn request(&mut self, kind: u16, flags: u16, body: &[u8]) -> std::result::Result<Vec<Vec<u8>>, Failure> {
        self.seq = self.seq.wrapping_add(1);
        let mut message = Vec::with_capacity(NLMSG_LEN + body.len());
        message.extend_from_slice(&((NLMSG_LEN + body.len()) as u32).to_ne_bytes()); // ok: a request is < 100 bytes
        message.extend_from_slice(&kind.to_ne_bytes());
        message.extend_from_slice(&(NLM_F_REQUEST | flags).to_ne_bytes());
        message.extend_from_slice(&self.seq.to_ne_bytes());
        message.extend_from_slice(&0u32.to_ne_bytes());
        message.extend_from_slice(body);
        send(&self.socket, &message)?;
        let mut answer = Vec::new();
        loop {
            let datagram = receive(&self.socket)?;
            let mut rest = &datagram[..];
            while !rest.is_empty() {
                let Some((message, next)) = split_message(rest) else {
                    return Err(Failure::Socket("malformed message from the kernel".to_string()));
                };
                rest = next;
                if message.seq != self.seq {
                    continue;
                }
                match message.kind {
                    NLMSG_NOOP => {}
                    NLMSG_OVERRUN => return Err(Failure::Socket("the kernel's answer overran".to_string())),
                    // An ACK is an error message with code 0; a dump ends with DONE.
                    NLMSG_ERROR | NLMSG_DONE => {
                        let code = message.payload.get(..4).and_then(u32_of).unwrap_or(0) as i32;
                        if code == 0 {
                            return Ok(answer);
                        }
                        return Err(kernel_error(code, &message));
                    }
                    _ => answer.push(message.payload.to_vec()),
                }
            }
        }
    }
}

/// One netlink message of the kernel's answer: struct nlmsghdr's type,
/// flags and sequence number, and the payload after it.
pub(super) struct Message<'a> {
    pub(super) kind: u16,
    pub(super) flags: u16,
    pub(super) seq: u32,
    pub(super) payload: &'a [u8],
}

/// The first message of `bytes` and the bytes after it; None when its
/// length is not believable.
pub(super) fn split_message(bytes: &[u8]) -> Option<(Message<'_>, &[u8])> {
    let header: [u8; NLMSG_LEN] = bytes.get(..NLMSG_LEN)?.try_into().ok()?;
    let [l0, l1, l2, l3, k0, k1, f0, f1, s0, s1, s2, s3, ..] = header;
    let len = usize::try_from(u32::from_ne_bytes([l0, l1, l2, l3])).ok()?;
    let message = Message {
        kind: u16::from_ne_bytes([k0, k1]),
        flags: u16::from_ne_bytes([f0, f1]),
        seq: u32::from_ne_bytes([s0, s1, s2, s3]),
        payload: bytes.get(NLMSG_LEN..len)?,
    };
    Some((message, bytes.get(align(len)..).unwrap_or(&[])))
}

/// The kernel's error code and, when it sent one, its extended-ACK text:
/// attributes after the code (DONE) or after the echoed request (ERROR),
/// which is only its header when the kernel capped it.
pub(super) fn kernel_error(code: i32, message: &Message<'_>) -> Failure {
    let payload = message.payload;
    let text = if message.flags & NLM_F_ACK_TLVS == 0 {
        None
    } else {
        let echoed = match (message.kind, message.flags & NLM_F_CAPPED != 0) {
            (NLMSG_DONE, _) => 0,
            (_, true) => NLMSG_LEN,
            (_, false) => payload.get(4..8).and_then(u32_of).and_then(|len| usize::try_from(len).ok()).unwrap_or(0),
        };
        let tlvs = payload.get(align(echoed).saturating_add(4)..).unwrap_or(&[]);
        attributes(tlvs).into_iter().find(|(kind, _)| *kind == NLMSGERR_ATTR_MSG).map(|(_, text)| c_string(text))
    };
    Failure::Kernel(Errno::from_raw(code.saturating_neg()), text.filter(|t| !t.is_empty()))
}

pub(super) fn align(len: usize) -> usize {
    len.saturating_add(3) & !3
}

/// A sockaddr_nl naming the kernel (port 0); given to bind, it lets the
/// kernel pick our port.
pub(super) fn kernel_address() -> libc::sockaddr_nl {
    // SAFETY: sockaddr_nl is plain integers, for which all zeroes is a valid value.
    let mut address: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    address.nl_family = libc::AF_NETLINK as libc::sa_family_t; // ok: 16 fits the u16 family
    address
}

pub(super) const ADDRESS_LEN: libc::socklen_t = size_of::<libc::sockaddr_nl>() as libc::socklen_t;

pub(super) fn check(result: isize) -> io::Result<usize> {
    usize::try_from(result).map_err(|_| io::Error::last_os_error())
}

/// A NETLINK_ROUTE socket, close-on-exec, bound to a port of its own.
pub(super) fn route_socket() -> io::Result<OwnedFd> {
    // SAFETY: socket() reads no memory of ours.
    let fd = unsafe { libc::socket(libc::AF_NETLINK, libc::SOCK_RAW | libc::SOCK_CLOEXEC, libc::NETLINK_ROUTE) };
    check(fd as isize)?;
    // SAFETY: fd is a new descriptor that nothing else owns.
    let socket = unsafe { OwnedFd::from_raw_fd(fd) };
    let address = kernel_address();
    // SAFETY: address is a sockaddr_nl of ADDRESS_LEN bytes, alive for the call.
    let bound = unsafe { libc::bind(fd, (&address as *const libc::sockaddr_nl).cast(), ADDRESS_LEN) };
    check(bound as isize)?;
    Ok(socket)
}

pub(super) fn enable_ext_ack(socket: &OwnedFd) {
    let on: libc::c_int = 1;
    let len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: the value is a c_int of the length passed, alive for the call.
    unsafe {
        libc::setsockopt(socket.as_raw_fd(), SOL_NETLINK, NETLINK_EXT_ACK, (&on as *const libc::c_int).cast(), len)
    };
}

pub(super) fn send(socket: &OwnedFd, message: &[u8]) -> io::Result<()> {
    let to = kernel_address();
    // SAFETY: message and to are readable for the lengths passed, alive for the call.
    let sent = unsafe {
        libc::sendto(
            socket.as_raw_fd(),
            message.as_ptr().cast(),
            message.len(),
            0,
            (&to as *const libc::sockaddr_nl).cast(),
            ADDRESS_LEN,
        )
    };
    check(sent).map(drop)
}

/// The next datagram from the kernel, whole: its length is asked first, so
/// no dump is ever cut short. Datagrams from any other sender are dropped.
pub(super) fn receive(socket: &OwnedFd) -> io::Result<Vec<u8>> {
    loop {
        // SAFETY: a peek of zero bytes writes nothing; MSG_TRUNC makes it
        // return the datagram's whole length.
        let peeked =
            unsafe { libc::recv(socket.as_raw_fd(), std::ptr::null_mut(), 0, libc::MSG_PEEK | libc::MSG_TRUNC) };
        let len = match check(peeked) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            len => len?,
        };
        let mut datagram = vec![0; len];
        let mut from = kernel_address();
        let mut from_len = ADDRESS_LEN;
        // SAFETY: datagram is writable for len bytes, from for from_len bytes; both outlive the call.
        let got = unsafe {
            libc::recvfrom(
                socket.as_raw_fd(),
                datagram.as_mut_ptr().cast(),
                len,
                0,
                (&mut from as *mut libc::sockaddr_nl).cast(),
                &mut from_len,
            )
        };
        let got = match check(got) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            got => got?,
        };
        if from.nl_pid == 0 {
            datagram.truncate(got);
            return Ok(datagram);
        }
    }
}
