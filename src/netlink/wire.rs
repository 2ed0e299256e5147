//! The wire: one NETLINK_ROUTE socket (neli's plain `NlSocket`, no handle
//! or router: those bring a lock and a thread), requests out, answers in.
//!
//! neli builds every request and parses every answer. What hardbox adds is
//! a check of each message's lengths before neli sees it: neli subtracts
//! the header size from the length the kernel claims, and a short length
//! would make that underflow (a panic, or a huge allocation).

use std::io::{self, Cursor};

use neli::consts::nl::{NlmF, Nlmsg, NlmsgerrAttr};
use neli::consts::rtnl::Rtm;
use neli::consts::socket::{Msg, NlFamily};
use neli::nl::{NlPayload, Nlmsghdr, NlmsghdrBuilder};
use neli::socket::NlSocket;
use neli::types::{Buffer, GenlBuffer};
use neli::utils::Groups;
use neli::{FromBytes, FromBytesWithInput, Size, ToBytes};
use nix::errno::Errno;

/// struct nlmsghdr's size: neli's `Nlmsghdr::header_size()`, as a constant.
const NLMSG_LEN: usize = 16;

/// The largest datagram hardbox reads. The kernel fills a dump's datagrams
/// to at most 32 KiB, or to its largest message when that is more (a link
/// without the VF details hardbox never asks for is a few kB); an ACK is
/// the request and a line of text. Sized once, so that each answer costs
/// one system call, not a peek at its length and then the read.
const ANSWER_MAX: usize = 64 * 1024;

/// Why a request failed: the kernel said no (errno and its extended-ACK
/// text, if it gave one), or the socket itself failed.
#[derive(Debug)]
pub(super) enum Failure {
    Kernel(Errno, Option<String>),
    Socket(String),
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        Failure::Socket(e.to_string())
    }
}

fn malformed(what: impl std::fmt::Display) -> Failure {
    Failure::Socket(format!("malformed answer from the kernel ({what})"))
}

/// neli refused to build or write a request.
pub(super) fn unbuilt(e: impl std::fmt::Display) -> Failure {
    Failure::Socket(format!("building the request: {e}"))
}

pub(super) struct Wire {
    pub(super) socket: NlSocket,
    /// The port the kernel gave this socket: its answers are addressed to it.
    port: u32,
    seq: u32,
    /// One buffer for every datagram and one for every request: 1,000
    /// routes would otherwise allocate (and zero) one of each per route.
    buffer: Vec<u8>,
    out: Vec<u8>,
}

impl Wire {
    /// A socket bound to a port of the kernel's choosing. neli opens it
    /// close-on-exec (SOCK_CLOEXEC).
    pub(super) fn open() -> io::Result<Wire> {
        let socket = NlSocket::connect(NlFamily::Route, None, Groups::empty())?;
        // The kernel's reason ("Nexthop has invalid gateway") makes a better
        // message than EINVAL alone; old kernels lack it, which costs nothing.
        let _ = socket.enable_ext_ack(true);
        let port = socket.pid()?;
        Ok(Wire { socket, port, seq: 0, buffer: Vec::new(), out: Vec::new() })
    }

    /// Sends one request and collects the answer: a dump's messages up to
    /// DONE, or nothing up to the ACK.
    /// The payload is what neli sends as one: Rtmsg, Ifinfomsg.
    pub(super) fn request(
        &mut self,
        kind: Rtm,
        flags: NlmF,
        body: impl Size + ToBytes,
    ) -> Result<Vec<Nlmsghdr<u16, Buffer>>, Failure> {
        let mut payload = Cursor::new(Vec::with_capacity(body.padded_size()));
        body.to_bytes(&mut payload).map_err(unbuilt)?;
        self.exchange(kind, flags, Buffer::from(payload.into_inner()))
    }

    /// `request` past its payload's type: one copy of neli's message code
    /// in the binary, not one per payload type.
    fn exchange(&mut self, kind: Rtm, flags: NlmF, body: Buffer) -> Result<Vec<Nlmsghdr<u16, Buffer>>, Failure> {
        self.seq = self.seq.wrapping_add(1);
        let message = NlmsghdrBuilder::default()
            .nl_type(u16::from(kind))
            .nl_flags(NlmF::REQUEST | flags)
            .nl_seq(self.seq)
            .nl_payload(NlPayload::Payload(body))
            .build()
            .map_err(unbuilt)?;
        let mut bytes = Cursor::new(std::mem::take(&mut self.out));
        bytes.get_mut().clear();
        message.to_bytes(&mut bytes).map_err(unbuilt)?;
        let sent = self.socket.send(bytes.get_ref(), Msg::empty());
        self.out = bytes.into_inner();
        sent?;
        let mut answer = Vec::new();
        loop {
            let len = self.receive()?;
            let datagram = self.buffer.get(..len).unwrap_or(&[]);
            if read_answer(datagram, self.seq, self.port, &mut answer)? {
                return Ok(answer);
            }
        }
    }

    /// The next datagram, whole, into `buffer`, in one call: MSG_TRUNC
    /// makes the kernel say a datagram's whole length, so one that did not
    /// fit is an error, never a dump silently cut short.
    fn receive(&mut self) -> Result<usize, Failure> {
        if self.buffer.is_empty() {
            self.buffer = vec![0; ANSWER_MAX];
        }
        loop {
            match self.socket.recv(&mut self.buffer[..], Msg::TRUNC) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
                Ok((len, _)) if len > self.buffer.len() => {
                    return Err(Failure::Socket(format!(
                        "an answer of {len} bytes, more than the {ANSWER_MAX} hardbox reads"
                    )))
                }
                Ok((len, _)) => return Ok(len),
            }
        }
    }
}

/// Reads one datagram of the answer to request `seq`, appending its
/// messages to `answer`; true once the answer is complete (the ACK, or the
/// DONE of a dump). Messages for another request or another port are
/// skipped: the port is the one the kernel addresses its answers to, and
/// only a process with CAP_NET_ADMIN can send to a netlink port.
pub(super) fn read_answer(
    datagram: &[u8],
    seq: u32,
    port: u32,
    answer: &mut Vec<Nlmsghdr<u16, Buffer>>,
) -> Result<bool, Failure> {
    let mut rest = datagram;
    while !rest.is_empty() {
        let (kind, message, next) = checked_message(rest)?;
        rest = next;
        match kind {
            Nlmsg::Noop => continue,
            Nlmsg::Overrun => return Err(Failure::Socket("the kernel's answer overran".to_string())),
            _ => {}
        }
        let message = Nlmsghdr::<u16, Buffer>::from_bytes(&mut Cursor::new(message)).map_err(malformed)?;
        if *message.nl_seq() != seq || *message.nl_pid() != port {
            continue;
        }
        match message.nl_payload() {
            NlPayload::Payload(_) => answer.push(message),
            NlPayload::Ack(_) | NlPayload::Empty => return Ok(true),
            NlPayload::DumpExtAck(done) => return done_or_failed(done.error(), done.ext_ack()),
            NlPayload::Err(error) => return done_or_failed(error.error(), error.ext_ack()),
        }
    }
    Ok(false)
}

/// A message's payload as neli's type for it (Rtmsg, Ifinfomsg). The
/// answer is read with a Buffer payload first: one parser for the framing
/// of every answer is kilobytes less than one per payload type.
pub(super) fn payload<P: FromBytesWithInput<Input = usize>>(message: &Nlmsghdr<u16, Buffer>) -> Result<P, Failure> {
    let bytes = message.get_payload().map(AsRef::as_ref).unwrap_or(&[]);
    P::from_bytes_with_input(&mut Cursor::new(bytes), bytes.len()).map_err(malformed)
}

/// An answer's end: an error code of 0 is success, any other the errno,
/// negated, with the kernel's reason when it gave one.
fn done_or_failed(code: &i32, ext_ack: &GenlBuffer<NlmsgerrAttr, Buffer>) -> Result<bool, Failure> {
    if *code == 0 {
        return Ok(true);
    }
    let text = ext_ack
        .iter()
        .find(|attr| *attr.nla_type().nla_type() == NlmsgerrAttr::Msg)
        .map(|attr| super::print::c_string(attr.nla_payload().as_ref()))
        .filter(|text| !text.is_empty());
    Err(Failure::Kernel(Errno::from_raw(code.saturating_neg()), text))
}

/// The first message of `bytes` (its type, its bytes up to the next
/// message) and the bytes after it, once its lengths are believable: the
/// header's length at least a header and within the datagram, an error
/// message long enough for its code and the request it echoes, and a DONE
/// either bare or long enough for its code.
fn checked_message(bytes: &[u8]) -> Result<(Nlmsg, &[u8], &[u8]), Failure> {
    let u32_at = |at: usize| bytes.get(at..at + 4).and_then(|b| b.try_into().ok()).map(u32::from_ne_bytes);
    let len = u32_at(0).and_then(|len| usize::try_from(len).ok()).ok_or_else(|| malformed("a cut-short header"))?;
    if len < NLMSG_LEN || len > bytes.len() {
        return Err(malformed(format!("a message of {len} bytes in {}", bytes.len())));
    }
    let kind = Nlmsg::from(bytes.get(4..6).and_then(|b| b.try_into().ok()).map(u16::from_ne_bytes).unwrap_or(0));
    if kind == Nlmsg::Error {
        // The code, then the request's header, whose length says how much
        // of the request follows (all of it: hardbox never asks the kernel
        // to cap the echo).
        let echoed = u32_at(NLMSG_LEN + 4).and_then(|len| usize::try_from(len).ok());
        let code = u32_at(NLMSG_LEN).unwrap_or(1);
        let fits = match echoed {
            Some(_) if code == 0 => len >= NLMSG_LEN + 4 + NLMSG_LEN,
            Some(echoed) => echoed >= NLMSG_LEN && NLMSG_LEN + 4 + align(echoed) <= len,
            None => false,
        };
        if !fits {
            return Err(malformed(format!("an error message of {len} bytes")));
        }
    }
    if kind == Nlmsg::Done && len != NLMSG_LEN && len < NLMSG_LEN + 4 {
        return Err(malformed(format!("a DONE of {len} bytes")));
    }
    // neli reads the padding after a message, so the message keeps it.
    let end = align(len).min(bytes.len());
    Ok((kind, &bytes[..end], &bytes[end..]))
}

pub(super) fn align(len: usize) -> usize {
    len.saturating_add(3) & !3
}

#[cfg(test)]
mod tests {
    use neli::consts::rtnl::{Ifla, RtAddrFamily};
    use neli::rtnl::{Ifinfomsg, IfinfomsgBuilder, Rtmsg};

    use super::*;

    /// One message as the kernel would send it: header, then payload.
    fn message(kind: u16, flags: u16, seq: u32, port: u32, payload: &[u8]) -> Vec<u8> {
        let mut bytes = ((NLMSG_LEN + payload.len()) as u32).to_ne_bytes().to_vec();
        bytes.extend_from_slice(&kind.to_ne_bytes());
        bytes.extend_from_slice(&flags.to_ne_bytes());
        bytes.extend_from_slice(&seq.to_ne_bytes());
        bytes.extend_from_slice(&port.to_ne_bytes());
        bytes.extend_from_slice(payload);
        bytes.resize(align(bytes.len()), 0);
        bytes
    }

    fn serialized(value: &impl ToBytes) -> Vec<u8> {
        let mut bytes = Cursor::new(Vec::new());
        value.to_bytes(&mut bytes).unwrap();
        bytes.into_inner()
    }

    fn link_payload() -> Vec<u8> {
        let name = neli::rtnl::RtattrBuilder::default().rta_type(Ifla::Ifname).rta_payload("v0").build().unwrap();
        let info = IfinfomsgBuilder::default()
            .ifi_family(RtAddrFamily::Unspecified)
            .ifi_index(2)
            .rtattrs(std::iter::once(name).collect())
            .build()
            .unwrap();
        serialized(&info)
    }

    /// struct nlmsgerr: the code, the echoed request, then the TLVs.
    fn error(code: i32, request: &[u8], tlvs: &[u8]) -> Vec<u8> {
        let mut payload = code.to_ne_bytes().to_vec();
        payload.extend_from_slice(request);
        payload.extend_from_slice(tlvs);
        message(u16::from(neli::consts::nl::Nlmsg::Error), NlmF::ACK_TLVS.bits(), 7, 9, &payload)
    }

    fn read(datagram: &[u8]) -> (Result<bool, Failure>, usize) {
        let mut answer = Vec::new();
        let result = read_answer(datagram, 7, 9, &mut answer);
        for message in &answer {
            let _ = payload::<Ifinfomsg>(message);
            let _ = payload::<Rtmsg>(message);
        }
        (result, answer.len())
    }

    #[test]
    fn a_dump_is_read_up_to_done_and_other_requests_are_skipped() {
        let mut datagram = message(16, NlmF::MULTI.bits(), 7, 9, &link_payload());
        datagram.extend(message(16, NlmF::MULTI.bits(), 6, 9, &link_payload()));
        datagram.extend(message(16, NlmF::MULTI.bits(), 7, 8, &link_payload()));
        datagram.extend(message(u16::from(neli::consts::nl::Nlmsg::Noop), 0, 7, 9, &[]));
        let (result, found) = read(&datagram);
        assert!(matches!(result, Ok(false)), "no DONE yet");
        assert_eq!(found, 1, "only request 7 to port 9 counts");
        datagram.extend(message(u16::from(neli::consts::nl::Nlmsg::Done), NlmF::MULTI.bits(), 7, 9, &[0; 4]));
        assert!(matches!(read(&datagram), (Ok(true), 1)));
    }

    #[test]
    fn the_kernels_errno_and_reason_are_read_after_the_echoed_request() {
        let request = message(18, NlmF::REQUEST.bits(), 7, 0, &link_payload());
        let mut tlvs = 28u16.to_ne_bytes().to_vec();
        tlvs.extend_from_slice(&1u16.to_ne_bytes());
        tlvs.extend_from_slice(b"Invalid prefsrc address\0");
        let (result, _) = read(&error(-22, &request, &tlvs));
        let Err(Failure::Kernel(errno, text)) = result else { panic!("not a kernel error") };
        assert_eq!((errno, text.as_deref()), (Errno::EINVAL, Some("Invalid prefsrc address")));
        let (result, _) = read(&error(-1, &request, &[]));
        assert!(matches!(result, Err(Failure::Kernel(Errno::EPERM, None))));
        assert!(matches!(read(&error(0, &request[..NLMSG_LEN], &[])), (Ok(true), 0)), "an ACK");
    }

    #[test]
    fn lengths_that_lie_are_refused_before_neli_reads_them() {
        assert_eq!(NLMSG_LEN, <Nlmsghdr<u16, Buffer> as neli::Header>::header_size());
        let good = message(16, 0, 7, 9, &link_payload());
        assert!(checked_message(&good).is_ok());
        for len in [0u32, 15, good.len() as u32 + 1, u32::MAX] {
            let mut bad = good.clone();
            bad[..4].copy_from_slice(&len.to_ne_bytes());
            assert!(matches!(read(&bad).0, Err(Failure::Socket(_))), "length {len}");
        }
        assert!(read(&good[..15]).0.is_err());
        // An error whose echo claims more than is there, or less than a header.
        let request = message(18, NlmF::REQUEST.bits(), 7, 0, &link_payload());
        for echoed in [0u32, 15, 200, u32::MAX] {
            let mut bad = error(-22, &request, &[]);
            bad[20..24].copy_from_slice(&echoed.to_ne_bytes());
            assert!(matches!(read(&bad).0, Err(Failure::Socket(_))), "echoed length {echoed}");
        }
        // A DONE with less than its code (found by the fuzzer: neli
        // subtracts the code's size from what is there).
        for len in [17u32, 19] {
            let mut done = message(u16::from(neli::consts::nl::Nlmsg::Done), NlmF::MULTI.bits(), 7, 9, &[0; 4]);
            done[..4].copy_from_slice(&len.to_ne_bytes());
            assert!(matches!(read(&done).0, Err(Failure::Socket(_))), "DONE of {len}");
        }
        // A capped echo (only its header): hardbox never asks for one.
        assert!(matches!(read(&error(-22, &request[..NLMSG_LEN], &[])).0, Err(Failure::Socket(_))));
    }

    #[test]
    fn no_datagram_makes_the_reader_panic() {
        let route =
            message(24, NlmF::MULTI.bits(), 7, 9, &[2, 24, 0, 0, 254, 3, 0, 1, 0, 0, 0, 0, 8, 0, 1, 0, 203, 0, 113, 0]);
        let request = message(18, NlmF::REQUEST.bits(), 7, 0, &link_payload());
        let seeds = [route, message(16, 0, 7, 9, &link_payload()), error(-22, &request, &[5, 0, 1, 0, 65, 0, 0, 0])];
        let mut seed = 0x9e37_79b9_u32;
        for round in 0..6000 {
            let mut bytes = seeds[round % seeds.len()].clone();
            bytes.truncate(round % (bytes.len() + 1));
            for _ in 0..round % 5 {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                let at = seed as usize % bytes.len().max(1);
                if let Some(byte) = bytes.get_mut(at) {
                    *byte = (seed >> 24) as u8;
                }
            }
            let _ = read(&bytes);
        }
    }
}
