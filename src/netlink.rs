//! rtnetlink: check a route against the kernel, add, replace or delete it,
//! and list the routing table the way `ip route` prints it.
//!
//! One socket, spoken to synchronously: no background thread (hardbox must
//! stay single-threaded for setns and credential changes), close-on-exec.
//! Messages are built and read by hand (linux/netlink.h, linux/rtnetlink.h):
//! a few fixed layouts do not need a framework. Every length in the kernel's
//! answer is checked before it is used. Every change asks for the kernel's
//! ACK and turns its error code into one line with the cause and the fix.

use std::fmt;
use std::io;
use std::mem::size_of;
use std::net::IpAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use nix::errno::Errno;

use crate::error::{Error, Result};
use crate::route::{table_name, Family, RouteSpec, TABLE_MAIN};

// Numbers from linux/netlink.h and linux/rtnetlink.h. Written out because the
// libc crate lacks some of them on musl (RTA_PREF among them).
const NLMSG_NOOP: u16 = 1;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLMSG_OVERRUN: u16 = 4;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_ACK: u16 = 4;
const NLM_F_DUMP: u16 = 0x300;
const NLM_F_REPLACE: u16 = 0x100;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;
const NLM_F_CAPPED: u16 = 0x100;
const NLM_F_ACK_TLVS: u16 = 0x200;
const NLMSGERR_ATTR_MSG: u16 = 1;
const SOL_NETLINK: libc::c_int = 270;
const NETLINK_EXT_ACK: libc::c_int = 11;
const RTM_NEWROUTE: u16 = 24;
const RTM_DELROUTE: u16 = 25;
const RTM_GETROUTE: u16 = 26;
const RTM_GETLINK: u16 = 18;
/// struct nlmsghdr, struct rtmsg, struct ifinfomsg.
const NLMSG_LEN: usize = 16;
const RTMSG_LEN: usize = 12;
const IFINFOMSG_LEN: usize = 16;

const RTA_DST: u16 = 1;
const RTA_SRC: u16 = 2;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RTA_PRIORITY: u16 = 6;
const RTA_PREFSRC: u16 = 7;
const RTA_METRICS: u16 = 8;
const RTA_FLOW: u16 = 11;
const RTA_CACHEINFO: u16 = 12;
const RTA_TABLE: u16 = 15;
const RTA_PREF: u16 = 20;
const RTAX_MTU: u16 = 2;
const RTAX_LOCK: usize = 1;
const RTNH_F_ONLINK: u32 = 4;
const RTM_F_CLONED: u32 = 0x200;
const RTPROT_BOOT: u8 = 3;
const RT_SCOPE_LINK: u8 = 253;
const RT_SCOPE_NOWHERE: u8 = 255;
const IFLA_IFNAME: u16 = 3;

const CAP_HINT: &str = "needs CAP_NET_ADMIN: docker run --cap-add NET_ADMIN";

/// What to do with a checked route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Add, or replace the route with the same destination, metric and table
    /// (`ip route replace`): running it twice leaves one route.
    Replace,
    /// Add; fail if the route exists (`--no-replace`).
    Create,
    /// Remove the first route that matches; fail if there is none.
    Delete,
}

/// A network interface: its index and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub index: u32,
    pub name: String,
}

/// A route the kernel has been asked about (its interface exists) but not
/// yet changed: the result of `RouteSocket::check`, the input of `apply`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedRoute {
    spec: RouteSpec,
    oif: Option<u32>,
}

impl CheckedRoute {
    pub fn spec(&self) -> &RouteSpec {
        &self.spec
    }
}

impl fmt::Display for CheckedRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.spec.fmt(f)
    }
}

/// Why a request failed: the kernel said no (errno and its extended-ACK
/// text, if it gave one), or the socket itself failed.
enum Failure {
    Kernel(Errno, Option<String>),
    Socket(String),
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        Failure::Socket(e.to_string())
    }
}

pub struct RouteSocket {
    socket: OwnedFd,
    seq: u32,
}

impl RouteSocket {
    pub fn open() -> Result<RouteSocket> {
        let socket = route_socket().map_err(|e| Error::new(format!("cannot open a netlink socket: {e}")))?;
        // The kernel's reason ("Nexthop has invalid gateway") makes a better
        // message than EINVAL alone; old kernels lack it, which costs nothing.
        enable_ext_ack(&socket);
        Ok(RouteSocket { socket, seq: 0 })
    }

    /// Every interface, in the kernel's order (by index, as `ip link` lists them).
    pub fn links(&mut self) -> Result<Vec<Link>> {
        let infos =
            self.request(RTM_GETLINK, NLM_F_DUMP, &[0; IFINFOMSG_LEN]).map_err(|f| failed("listing interfaces", f))?;
        Ok(infos.iter().filter_map(|info| link(info)).collect())
    }

    /// Asks the kernel what can be known without changing anything: that the
    /// interface exists. An unknown one is refused with the names that do.
    pub fn check(&mut self, spec: &RouteSpec) -> Result<CheckedRoute> {
        let oif = match &spec.dev {
            None => None,
            Some(dev) => {
                let links = self.links()?;
                match links.iter().find(|link| &link.name == dev) {
                    Some(link) => Some(link.index),
                    None => {
                        let names: Vec<&str> = links.iter().map(|link| link.name.as_str()).collect();
                        return Err(Error::new(format!(
                            "{spec}: no interface named {dev} (there are: {})",
                            names.join(", ")
                        )));
                    }
                }
            }
        };
        Ok(CheckedRoute { spec: spec.clone(), oif })
    }

    /// Makes the change and waits for the kernel's ACK.
    pub fn apply(&mut self, route: &CheckedRoute, change: Change) -> Result<()> {
        let (kind, flags) = match change {
            Change::Replace => (RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE),
            Change::Create => (RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL),
            Change::Delete => (RTM_DELROUTE, 0),
        };
        let message = route_message(route, change);
        self.request(kind, flags | NLM_F_ACK, &message).map(drop).map_err(|failure| refused(route, change, failure))
    }

    /// Sets the route with replace semantics, and says whether it is new: a
    /// route this call created can be undone by deleting it, one it replaced
    /// cannot. Create-only first, replace only when the kernel says EEXIST.
    pub fn set(&mut self, route: &CheckedRoute) -> Result<bool> {
        let message = route_message(route, Change::Create);
        match self.request(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, &message) {
            Ok(_) => Ok(true),
            Err(Failure::Kernel(Errno::EEXIST, _)) => self.apply(route, Change::Replace).map(|()| false),
            Err(failure) => Err(refused(route, Change::Replace, failure)),
        }
    }

    /// The routing table, one line per route in `ip route`'s order and words.
    /// `family` None means IPv4 then IPv6; `table` None means every table
    /// (`ip route show table all`).
    pub fn list(&mut self, family: Option<Family>, table: Option<u32>) -> Result<Vec<String>> {
        let links = self.links()?;
        let families = match family {
            Some(family) => vec![family],
            None => vec![Family::V4, Family::V6],
        };
        let mut lines = Vec::new();
        for family in families {
            let request = Header { family, dst_len: 0, table: 0, protocol: 0, scope: 0, kind: 0, flags: 0 }.bytes();
            let routes = self.request(RTM_GETROUTE, NLM_F_DUMP, &request).map_err(|f| failed("listing routes", f))?;
            lines.extend(routes.iter().filter_map(|route| describe(route, &links, table)));
        }
        Ok(lines)
    }

    /// Sends one request and collects the payloads of the answer: a dump's
    /// messages up to DONE, or nothing up to the ACK.
    fn request(&mut self, kind: u16, flags: u16, body: &[u8]) -> std::result::Result<Vec<Vec<u8>>, Failure> {
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
struct Message<'a> {
    kind: u16,
    flags: u16,
    seq: u32,
    payload: &'a [u8],
}

/// The first message of `bytes` and the bytes after it; None when its
/// length is not believable.
fn split_message(bytes: &[u8]) -> Option<(Message<'_>, &[u8])> {
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
fn kernel_error(code: i32, message: &Message<'_>) -> Failure {
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

/// An interface from an RTM_NEWLINK message: struct ifinfomsg (its index
/// at offset 4), then attributes, IFLA_IFNAME among them.
fn link(info: &[u8]) -> Option<Link> {
    let index = i32::from_ne_bytes(info.get(4..8)?.try_into().ok()?);
    let (_, name) = attributes(info.get(IFINFOMSG_LEN..)?).into_iter().find(|(kind, _)| *kind == IFLA_IFNAME)?;
    Some(Link { index: u32::try_from(index).ok()?, name: c_string(name) })
}

fn align(len: usize) -> usize {
    len.saturating_add(3) & !3
}

/// A sockaddr_nl naming the kernel (port 0); given to bind, it lets the
/// kernel pick our port.
fn kernel_address() -> libc::sockaddr_nl {
    // SAFETY: sockaddr_nl is plain integers, for which all zeroes is a valid value.
    let mut address: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    address.nl_family = libc::AF_NETLINK as libc::sa_family_t; // ok: 16 fits the u16 family
    address
}

const ADDRESS_LEN: libc::socklen_t = size_of::<libc::sockaddr_nl>() as libc::socklen_t;

fn check(result: isize) -> io::Result<usize> {
    usize::try_from(result).map_err(|_| io::Error::last_os_error())
}

/// A NETLINK_ROUTE socket, close-on-exec, bound to a port of its own.
fn route_socket() -> io::Result<OwnedFd> {
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

fn enable_ext_ack(socket: &OwnedFd) {
    let on: libc::c_int = 1;
    let len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: the value is a c_int of the length passed, alive for the call.
    unsafe {
        libc::setsockopt(socket.as_raw_fd(), SOL_NETLINK, NETLINK_EXT_ACK, (&on as *const libc::c_int).cast(), len)
    };
}

fn send(socket: &OwnedFd, message: &[u8]) -> io::Result<()> {
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
fn receive(socket: &OwnedFd) -> io::Result<Vec<u8>> {
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

fn failed(what: &str, failure: Failure) -> Error {
    match failure {
        Failure::Kernel(errno, text) => Error::sys(what, errno, text.as_deref()),
        Failure::Socket(text) => Error::new(format!("{what}: netlink: {text}")),
    }
}

/// The kernel's refusal as one line: the route, the cause, the fix.
fn refused(route: &CheckedRoute, change: Change, failure: Failure) -> Error {
    let Failure::Kernel(errno, text) = failure else {
        return failed(&route.to_string(), failure);
    };
    let spec = &route.spec;
    match (errno, change) {
        (Errno::EPERM, _) => Error::sys(spec, errno, Some(CAP_HINT)),
        (Errno::EEXIST, _) => {
            Error::new(format!("{spec}: the route exists already (without --no-replace it is replaced)"))
        }
        (Errno::ESRCH, Change::Delete) => Error::new(format!("{spec}: no such route to delete (see route-add --list)")),
        // IPv4 says ENETUNREACH, IPv6 EHOSTUNREACH.
        (Errno::ENETUNREACH | Errno::EHOSTUNREACH, _) => Error::sys(
            spec,
            errno,
            Some("the gateway is on no connected network: add a route to it first, or use onlink"),
        ),
        (Errno::ENODEV, _) => Error::sys(spec, errno, Some("the interface is gone: see route-add --list")),
        (Errno::ENETDOWN, _) => Error::sys(spec, errno, Some("the interface is down: bring it up first")),
        _ => Error::sys(spec, errno, text.map(|t| format!("kernel: {t}")).as_deref()),
    }
}

/// The fixed part of a route message: struct rtmsg, less its source length
/// and TOS, which hardbox never sets.
struct Header {
    family: Family,
    dst_len: u8,
    table: u8,
    protocol: u8,
    scope: u8,
    kind: u8,
    flags: u32,
}

impl Header {
    fn bytes(&self) -> [u8; RTMSG_LEN] {
        let family = match self.family {
            Family::V4 => libc::AF_INET,
            Family::V6 => libc::AF_INET6,
        } as u8; // ok: 2 and 10
        let [f0, f1, f2, f3] = self.flags.to_ne_bytes();
        [family, self.dst_len, 0, 0, self.table, self.protocol, self.scope, self.kind, f0, f1, f2, f3]
    }
}

/// Appends one attribute (struct rtattr, then the payload padded to 4 bytes).
fn push_attr(body: &mut Vec<u8>, kind: u16, payload: &[u8]) {
    body.extend_from_slice(&(4 + payload.len() as u16).to_ne_bytes()); // ok: payloads here are a few bytes
    body.extend_from_slice(&kind.to_ne_bytes());
    body.extend_from_slice(payload);
    body.resize(align(body.len()), 0);
}

fn push_address(body: &mut Vec<u8>, kind: u16, address: IpAddr) {
    match address {
        IpAddr::V4(a) => push_attr(body, kind, &a.octets()),
        IpAddr::V6(a) => push_attr(body, kind, &a.octets()),
    }
}

/// The RTM_NEWROUTE/RTM_DELROUTE body, as `ip route replace/add/del` sends it.
fn route_message(route: &CheckedRoute, change: Change) -> Vec<u8> {
    let spec = &route.spec;
    let table = spec.table.unwrap_or(TABLE_MAIN);
    let header = Header {
        family: spec.family,
        dst_len: spec.prefix_len,
        // Tables above 255 do not fit the header's byte: RTA_TABLE carries them.
        table: u8::try_from(table).unwrap_or(0),
        // A delete matches any protocol, scope and type, as `ip route del` does.
        protocol: if change == Change::Delete { 0 } else { RTPROT_BOOT },
        scope: match (change, spec.via) {
            (Change::Delete, _) => RT_SCOPE_NOWHERE,
            // With no gateway the destination is on the link itself.
            (_, None) => RT_SCOPE_LINK,
            (_, Some(_)) => 0,
        },
        kind: if change == Change::Delete { 0 } else { RTN_UNICAST },
        flags: if spec.onlink { RTNH_F_ONLINK } else { 0 },
    };
    let mut body = header.bytes().to_vec();
    push_attr(&mut body, RTA_TABLE, &table.to_ne_bytes());
    if spec.prefix_len > 0 {
        push_address(&mut body, RTA_DST, spec.dest);
    }
    if let Some(via) = spec.via {
        push_address(&mut body, RTA_GATEWAY, via);
    }
    if let Some(oif) = route.oif {
        push_attr(&mut body, RTA_OIF, &oif.to_ne_bytes());
    }
    if let Some(metric) = spec.metric {
        push_attr(&mut body, RTA_PRIORITY, &metric.to_ne_bytes());
    }
    if let Some(src) = spec.src {
        push_address(&mut body, RTA_PREFSRC, src);
    }
    if let Some(mtu) = spec.mtu {
        // RTA_METRICS nests one attribute: RTAX_MTU, a u32.
        let mut nested = Vec::with_capacity(8);
        push_attr(&mut nested, RTAX_MTU, &mtu.to_ne_bytes());
        push_attr(&mut body, RTA_METRICS, &nested);
    }
    body
}

/// One dumped route (struct rtmsg, then attributes) in `ip route`'s words
/// and order (iproute2's print_route), or None when `ip route` would not
/// show it: a cached clone, another table than the one asked for, a family
/// other than IPv4 and IPv6, a message too short to be a route.
fn describe(route: &[u8], links: &[Link], table_filter: Option<u32>) -> Option<String> {
    let header: [u8; RTMSG_LEN] = route.get(..RTMSG_LEN)?.try_into().ok()?;
    let [family, dst_len, src_len, tos, table, protocol, scope, kind, f0, f1, f2, f3] = header;
    let family = match i32::from(family) {
        libc::AF_INET => Family::V4,
        libc::AF_INET6 => Family::V6,
        _ => return None,
    };
    let mut tb: [Option<&[u8]>; 32] = [None; 32];
    for (kind, payload) in attributes(&route[RTMSG_LEN..]) {
        if let Some(slot @ None) = tb.get_mut(usize::from(kind)) {
            *slot = Some(payload);
        }
    }
    let at = |kind: u16| tb[usize::from(kind)];
    let flags = u32::from_ne_bytes([f0, f1, f2, f3]);
    let table = at(RTA_TABLE).and_then(u32_of).unwrap_or(u32::from(table));
    if flags & RTM_F_CLONED != 0 || table_filter.is_some_and(|wanted| wanted != table) {
        return None;
    }
    let mut words: Vec<String> = Vec::new();
    if kind != RTN_UNICAST {
        words.push(name_of(ROUTE_TYPES, kind));
    }
    words.push(prefix(family, at(RTA_DST), dst_len).unwrap_or_else(|| "default".to_string()));
    if let Some(from) = prefix(family, at(RTA_SRC), src_len) {
        words.push(format!("from {from}"));
    }
    if tos != 0 {
        words.push(format!("tos 0x{tos:02x}"));
    }
    if let Some(gw) = at(RTA_GATEWAY).and_then(address) {
        words.push(format!("via {gw}"));
    }
    if let Some(oif) = at(RTA_OIF).and_then(u32_of) {
        match links.iter().find(|link| link.index == oif) {
            Some(link) => words.push(format!("dev {}", link.name)),
            None => words.push(format!("dev if{oif}")),
        }
    }
    if table_filter.is_none() && table != 0 && table != TABLE_MAIN {
        words.push(format!("table {}", table_name(table)));
    }
    if protocol != RTPROT_BOOT {
        words.push(format!("proto {}", name_of(PROTOCOLS, protocol)));
    }
    if scope != 0 {
        words.push(format!("scope {}", name_of(SCOPES, scope)));
    }
    if let Some(src) = at(RTA_PREFSRC).and_then(address) {
        words.push(format!("src {src}"));
    }
    if let Some(metric) = at(RTA_PRIORITY).and_then(u32_of) {
        words.push(format!("metric {metric}"));
    }
    words.extend(FLAGS.iter().filter(|(bit, _)| flags & bit != 0).map(|(_, name)| name.to_string()));
    if let Some(flow) = at(RTA_FLOW).and_then(u32_of) {
        // Routing realms: the destination's in the low half, the source's in the high.
        let realm = |id: u32| if id == 0 { "cosmos".to_string() } else { id.to_string() };
        words.push(match flow >> 16 {
            0 => format!("realm {}", realm(flow & 0xffff)),
            from => format!("realms {}/{}", realm(from), realm(flow & 0xffff)),
        });
    }
    if let Some(info) = at(RTA_CACHEINFO) {
        // struct rta_cacheinfo: expires (clock ticks, USER_HZ 100) at 8, error at 12.
        match info.get(8..12).and_then(u32_of).map(|raw| raw as i32) {
            Some(expires) if expires != 0 => words.push(format!("expires {}sec", expires / 100)),
            _ => {}
        }
        match info.get(12..16).and_then(u32_of) {
            Some(error) if error != 0 => words.push(format!("error {error}")),
            _ => {}
        }
    }
    if let Some(metrics) = at(RTA_METRICS) {
        words.extend(describe_metrics(metrics));
    }
    if let Some(&pref) = at(RTA_PREF).and_then(|p| p.first()) {
        words.push(format!("pref {}", name_of(PREFERENCES, pref)));
    }
    Some(words.join(" "))
}

/// The RTA_METRICS nest as iproute2's print_rta_metrics words it:
/// `mtu 1400`, `mtu lock 1400`, `rtt 10ms`, `features ecn`.
fn describe_metrics(nest: &[u8]) -> Vec<String> {
    let mut values: [Option<&[u8]>; 18] = [None; 18];
    for (kind, payload) in attributes(nest) {
        if let Some(slot) = values.get_mut(usize::from(kind)) {
            *slot = Some(payload);
        }
    }
    let locked = values[RTAX_LOCK].and_then(u32_of).unwrap_or(0);
    let mut words = Vec::new();
    for (i, name) in METRICS.iter().enumerate().skip(2) {
        let lock = locked & (1 << i) != 0;
        let Some(payload) = values[i].or(if lock { Some(&[][..]) } else { None }) else {
            continue;
        };
        let value = u32_of(payload).unwrap_or(0);
        if i == RTAX_HOPLIMIT && value == u32::MAX {
            continue;
        }
        let shown = match i {
            RTAX_RTT | RTAX_RTTVAR | RTAX_RTO_MIN => {
                let ms = match i {
                    RTAX_RTT => value / 8,
                    RTAX_RTTVAR => value / 4,
                    _ => value,
                };
                seconds_or_ms(ms)
            }
            RTAX_FEATURES if value == RTAX_FEATURE_ECN => "ecn".to_string(),
            RTAX_FEATURES if value & RTAX_FEATURE_ECN != 0 => format!("ecn {value:#x}"),
            RTAX_FEATURES => format!("{value:#x}"),
            RTAX_CC_ALGO => c_string(payload),
            _ => value.to_string(),
        };
        words.push(if lock { format!("{name} lock {shown}") } else { format!("{name} {shown}") });
    }
    words
}

/// iproute2 prints a time of a second or more as `%gs`: `1.5s`, `3s`.
fn seconds_or_ms(ms: u32) -> String {
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let fraction = format!("{:03}", ms % 1000);
    match fraction.trim_end_matches('0') {
        "" => format!("{}s", ms / 1000),
        digits => format!("{}.{digits}s", ms / 1000),
    }
}

/// The (type, payload) pairs of a run of netlink attributes; a malformed
/// one ends the run rather than being trusted.
fn attributes(mut bytes: &[u8]) -> Vec<(u16, &[u8])> {
    let mut found = Vec::new();
    while bytes.len() >= 4 {
        let len = usize::from(u16::from_ne_bytes([bytes[0], bytes[1]]));
        let kind = u16::from_ne_bytes([bytes[2], bytes[3]]);
        let Some(payload) = bytes.get(4..len) else {
            break;
        };
        found.push((kind, payload));
        bytes = bytes.get((len + 3) & !3..).unwrap_or(&[]);
    }
    found
}

/// `203.0.113.0/24`, or the bare address for a host route; None when there
/// is no prefix at all (a default route, or no source prefix).
fn prefix(family: Family, bytes: Option<&[u8]>, len: u8) -> Option<String> {
    match bytes.and_then(address) {
        Some(addr) if len == family.bits() => Some(addr.to_string()),
        Some(addr) => Some(format!("{addr}/{len}")),
        None if len > 0 => Some(format!("0/{len}")),
        None => None,
    }
}

fn address(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}

/// A NUL-terminated string attribute, up to its NUL.
fn c_string(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

fn u32_of(bytes: &[u8]) -> Option<u32> {
    Some(u32::from_ne_bytes(bytes.get(..4)?.try_into().ok()?))
}

/// iproute2's name for a number, or the number itself.
fn name_of(table: &[(u8, &str)], value: u8) -> String {
    match table.iter().find(|(number, _)| *number == value) {
        Some((_, name)) => (*name).to_string(),
        None => value.to_string(),
    }
}

const RTN_UNICAST: u8 = 1;
const ROUTE_TYPES: &[(u8, &str)] = &[
    (0, "none"),
    (1, "unicast"),
    (2, "local"),
    (3, "broadcast"),
    (4, "anycast"),
    (5, "multicast"),
    (6, "blackhole"),
    (7, "unreachable"),
    (8, "prohibit"),
    (9, "throw"),
    (10, "nat"),
    (11, "xresolve"),
];
const PROTOCOLS: &[(u8, &str)] = &[
    (0, "unspec"),
    (1, "redirect"),
    (2, "kernel"),
    (3, "boot"),
    (4, "static"),
    (8, "gated"),
    (9, "ra"),
    (10, "mrt"),
    (11, "zebra"),
    (12, "bird"),
    (13, "dnrouted"),
    (14, "xorp"),
    (15, "ntk"),
    (16, "dhcp"),
    (18, "keepalived"),
    (42, "babel"),
    (99, "openr"),
    (186, "bgp"),
    (187, "isis"),
    (188, "ospf"),
    (189, "rip"),
    (192, "eigrp"),
];
const SCOPES: &[(u8, &str)] = &[(0, "global"), (200, "site"), (253, "link"), (254, "host"), (255, "nowhere")];
/// RFC 4191 router preferences, as RTA_PREF carries them.
const PREFERENCES: &[(u8, &str)] = &[(0, "medium"), (1, "high"), (3, "low")];
/// rtm_flags in the order iproute2 prints them.
const FLAGS: &[(u32, &str)] = &[
    (1, "dead"),
    (4, "onlink"),
    (2, "pervasive"),
    (8, "offload"),
    (64, "trap"),
    (0x100, "notify"),
    (16, "linkdown"),
    (32, "unresolved"),
    (0x4000, "rt_offload"),
    (0x8000, "rt_trap"),
    (0x2000_0000, "rt_offload_failed"),
];
const METRICS: [&str; 18] = [
    "",
    "",
    "mtu",
    "window",
    "rtt",
    "rttvar",
    "ssthresh",
    "cwnd",
    "advmss",
    "reordering",
    "hoplimit",
    "initcwnd",
    "features",
    "rto_min",
    "initrwnd",
    "quickack",
    "congctl",
    "fastopen_no_cookie",
];
const RTAX_RTT: usize = 4;
const RTAX_RTTVAR: usize = 5;
const RTAX_HOPLIMIT: usize = 10;
const RTAX_FEATURES: usize = 12;
const RTAX_RTO_MIN: usize = 13;
const RTAX_CC_ALGO: usize = 16;
const RTAX_FEATURE_ECN: u32 = 1;

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<Link> {
        vec![Link { index: 2, name: "v0".to_string() }]
    }

    fn dumped(family: Family, dst_len: u8, protocol: u8, scope: u8, flags: u32, attrs: &[(u16, &[u8])]) -> Vec<u8> {
        let header = Header { family, dst_len, table: TABLE_MAIN as u8, protocol, scope, kind: RTN_UNICAST, flags };
        let mut route = header.bytes().to_vec();
        for (kind, payload) in attrs {
            push_attr(&mut route, *kind, payload);
        }
        route
    }

    #[test]
    fn the_socket_is_close_on_exec() {
        let socket = RouteSocket::open().unwrap();
        let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", socket.socket.as_raw_fd())).unwrap();
        let flags = info.lines().find_map(|line| line.strip_prefix("flags:")).unwrap();
        let flags = i64::from_str_radix(flags.trim(), 8).unwrap();
        assert_ne!(flags & i64::from(libc::O_CLOEXEC), 0, "{info}");
    }

    #[test]
    fn a_route_reads_as_ip_route_prints_it() {
        let route = dumped(
            Family::V4,
            24,
            RTPROT_BOOT,
            0,
            RTNH_F_ONLINK,
            &[
                (RTA_DST, &[203, 0, 113, 0]),
                (RTA_GATEWAY, &[198, 51, 100, 1]),
                (RTA_OIF, &2u32.to_ne_bytes()),
                (RTA_PRIORITY, &5u32.to_ne_bytes()),
                (RTA_TABLE, &1000u32.to_ne_bytes()),
            ],
        );
        assert_eq!(
            describe(&route, &names(), None).as_deref(),
            Some("203.0.113.0/24 via 198.51.100.1 dev v0 table 1000 metric 5 onlink")
        );
        assert_eq!(
            describe(&route, &names(), Some(1000)).as_deref(),
            Some("203.0.113.0/24 via 198.51.100.1 dev v0 metric 5 onlink"),
            "a listing of one table does not repeat it"
        );
        assert_eq!(describe(&route, &names(), Some(TABLE_MAIN)), None);
    }

    #[test]
    fn kernel_routes_show_proto_scope_src_and_an_unknown_interface_by_index() {
        let route = dumped(
            Family::V6,
            0,
            2,
            253,
            0,
            &[(RTA_OIF, &9u32.to_ne_bytes()), (RTA_PREFSRC, &[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2])],
        );
        assert_eq!(
            describe(&route, &names(), None).as_deref(),
            Some("default dev if9 proto kernel scope link src 2001:db8::2")
        );
    }

    #[test]
    fn malformed_attributes_are_skipped_not_trusted() {
        let route = dumped(
            Family::V4,
            8,
            RTPROT_BOOT,
            0,
            0,
            &[(RTA_GATEWAY, &[1, 2, 3]), (RTA_PRIORITY, &[1]), (RTA_METRICS, &[200, 0, 2, 0, 1]), (RTA_PREF, &[])],
        );
        assert_eq!(describe(&route, &names(), None).as_deref(), Some("0/8"));
        assert!(attributes(&[4, 0]).is_empty());
        assert!(attributes(&[3, 0, 1, 0]).is_empty(), "a length below the header ends the run");
        assert_eq!(attributes(&[5, 0, 1, 0, 7, 0, 0, 0, 8, 0, 2, 0, 1, 0, 0, 0]).len(), 2, "padding is skipped");
    }

    #[test]
    fn metrics_read_as_ip_prints_them() {
        let mut nest = Vec::new();
        for (kind, value) in [(RTAX_LOCK as u16, 1u32 << 2), (2, 1400), (4, 96), (5, 6000), (10, u32::MAX), (12, 1)] {
            nest.extend_from_slice(&8u16.to_ne_bytes());
            nest.extend_from_slice(&kind.to_ne_bytes());
            nest.extend_from_slice(&value.to_ne_bytes());
        }
        assert_eq!(describe_metrics(&nest), ["mtu lock 1400", "rtt 12ms", "rttvar 1.5s", "features ecn"]);
        assert_eq!(
            [seconds_or_ms(999), seconds_or_ms(3000), seconds_or_ms(1230), seconds_or_ms(1001)],
            ["999ms", "3s", "1.23s", "1.001s"]
        );
    }

    #[test]
    fn requests_carry_the_table_the_gateway_and_the_flags() {
        let spec = RouteSpec::parse_line("192.0.2.0/24 via 198.51.100.1 table 1000 mtu 1400 onlink dev v0").unwrap();
        let route = CheckedRoute { spec, oif: Some(2) };
        let message = route_message(&route, Change::Replace);
        // struct rtmsg: the table at byte 4, the protocol at 5, the scope at 6, the flags from 8.
        assert_eq!(message[4], 0, "above 255: RTA_TABLE only");
        assert_eq!(u32_of(&message[8..]), Some(RTNH_F_ONLINK));
        assert_eq!(message[5], RTPROT_BOOT);
        assert_eq!(
            describe(&message, &names(), None).as_deref(),
            Some("192.0.2.0/24 via 198.51.100.1 dev v0 table 1000 onlink mtu 1400")
        );
        let delete = route_message(&route, Change::Delete);
        assert_eq!(delete[6], 255, "a delete matches any scope");
    }

    fn answer(kind: u16, flags: u16, payload: &[u8]) -> Vec<u8> {
        let mut bytes = ((NLMSG_LEN + payload.len()) as u32).to_ne_bytes().to_vec();
        bytes.extend_from_slice(&kind.to_ne_bytes());
        bytes.extend_from_slice(&flags.to_ne_bytes());
        bytes.extend_from_slice(&[7, 0, 0, 0, 0, 0, 0, 0]);
        bytes.extend_from_slice(payload);
        bytes
    }

    #[test]
    fn an_answer_with_a_length_that_lies_is_refused() {
        let good = answer(NLMSG_DONE, 0, &[0, 0, 0, 0]);
        let (message, rest) = split_message(&good).unwrap();
        assert_eq!((message.kind, message.seq, message.payload.len(), rest.len()), (NLMSG_DONE, 7, 4, 0));
        for len in [0u32, 15, 21, u32::MAX] {
            let mut bad = good.clone();
            bad[..4].copy_from_slice(&len.to_ne_bytes());
            assert!(split_message(&bad).is_none(), "length {len}");
        }
        assert!(split_message(&good[..15]).is_none());
    }

    #[test]
    fn the_kernels_reason_is_read_after_a_capped_or_a_whole_echo() {
        let mut tlvs = Vec::new();
        push_attr(&mut tlvs, NLMSGERR_ATTR_MSG, b"Invalid prefsrc address\0");
        let request = answer(RTM_NEWROUTE, NLM_F_REQUEST, &[1, 2, 3, 4, 5]);
        let mut whole = (-22i32).to_ne_bytes().to_vec();
        whole.extend_from_slice(&request);
        whole.resize(align(whole.len()), 0);
        whole.extend_from_slice(&tlvs);
        let mut capped = (-22i32).to_ne_bytes().to_vec();
        capped.extend_from_slice(&request[..NLMSG_LEN]);
        capped.extend_from_slice(&tlvs);
        for (payload, flags) in [(whole, NLM_F_ACK_TLVS), (capped, NLM_F_ACK_TLVS | NLM_F_CAPPED)] {
            let message = Message { kind: NLMSG_ERROR, flags, seq: 1, payload: &payload };
            let Failure::Kernel(errno, text) = kernel_error(-22, &message) else { panic!("not a kernel error") };
            assert_eq!((errno, text.as_deref()), (Errno::EINVAL, Some("Invalid prefsrc address")));
        }
        let bare = Message { kind: NLMSG_ERROR, flags: NLM_F_ACK_TLVS, seq: 1, payload: &[234, 255, 255, 255, 99] };
        let Failure::Kernel(errno, text) = kernel_error(-22, &bare) else { panic!("not a kernel error") };
        assert_eq!((errno, text), (Errno::EINVAL, None), "a cut-short answer yields no text");
    }

    #[test]
    fn no_answer_bytes_make_the_parsers_panic() {
        let route = dumped(
            Family::V6,
            64,
            2,
            0,
            0,
            &[(RTA_DST, &[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0]), (RTA_METRICS, &[8, 0, 2, 0])],
        );
        let mut seed = 0x9e37_79b9_u32;
        for round in 0..2000 {
            let mut bytes = answer(NLMSG_ERROR, NLM_F_ACK_TLVS, &route);
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
            if let Some((message, _)) = split_message(&bytes) {
                let _ = kernel_error(-1, &message);
                let _ = describe(message.payload, &names(), None);
                let _ = link(message.payload);
            }
            let _ = describe(&bytes, &names(), None);
            let _ = link(&bytes);
        }
    }
}
