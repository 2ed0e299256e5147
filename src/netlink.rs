//! rtnetlink: check a route against the kernel, add, replace or delete it,
//! and list the routing table the way `ip route` prints it.
//!
//! One socket, neli's synchronous handle: no background thread (hardbox must
//! stay single-threaded for setns and credential changes), close-on-exec
//! (neli opens it with SOCK_CLOEXEC). Every change asks for the kernel's ACK
//! and turns its error code into one line with the cause and the fix.

use std::fmt;
use std::net::IpAddr;

use neli::consts::nl::{NlmF, NlmsgerrAttr};
use neli::consts::rtnl::{RtAddrFamily, RtScope, RtTable, Rta, Rtm, RtmF, Rtn, Rtprot};
use neli::consts::socket::NlFamily;
use neli::err::SocketError;
use neli::nl::{NlPayload, NlmsghdrBuilder};
use neli::rtnl::{Ifinfomsg, IfinfomsgBuilder, Rtattr, RtattrBuilder, Rtmsg, RtmsgBuilder};
use neli::socket::synchronous::NlSocketHandle;
use neli::types::{Buffer, RtBuffer};
use neli::utils::Groups;
use neli::{FromBytesWithInput, Size, ToBytes};
use nix::errno::Errno;

use crate::error::{Error, Result};
use crate::route::{table_name, Family, RouteSpec, TABLE_MAIN};

// Attribute and flag numbers from linux/rtnetlink.h. Written out because the
// libc crate lacks some of them on musl (RTA_PREF among them).
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

impl From<SocketError> for Failure {
    fn from(e: SocketError) -> Failure {
        Failure::Socket(e.to_string())
    }
}

pub struct RouteSocket {
    socket: NlSocketHandle,
    seq: u32,
}

impl RouteSocket {
    pub fn open() -> Result<RouteSocket> {
        let socket = NlSocketHandle::connect(NlFamily::Route, None, Groups::empty())
            .map_err(|e| Error::new(format!("cannot open a netlink socket: {e}")))?;
        // The kernel's reason ("Nexthop has invalid gateway") makes a better
        // message than EINVAL alone; old kernels lack it, which costs nothing.
        let _ = socket.enable_ext_ack(true);
        Ok(RouteSocket { socket, seq: 0 })
    }

    /// Every interface, in the kernel's order (by index, as `ip link` lists them).
    pub fn links(&mut self) -> Result<Vec<Link>> {
        let request = IfinfomsgBuilder::default()
            .ifi_family(RtAddrFamily::Unspecified)
            .build()
            .map_err(|e| Error::new(format!("cannot build a link request: {e}")))?;
        let infos: Vec<Ifinfomsg> =
            self.request(Rtm::Getlink, NlmF::DUMP, request).map_err(|f| failed("listing interfaces", f))?;
        let links = infos
            .iter()
            .filter_map(|info| {
                let name = info.rtattrs().iter().find(|a| u16::from(a.rta_type()) == IFLA_IFNAME)?;
                Some(Link {
                    index: u32::try_from(*info.ifi_index()).ok()?,
                    name: c_string(name.rta_payload().as_ref()),
                })
            })
            .collect();
        Ok(links)
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
            Change::Replace => (Rtm::Newroute, NlmF::CREATE | NlmF::REPLACE),
            Change::Create => (Rtm::Newroute, NlmF::CREATE | NlmF::EXCL),
            Change::Delete => (Rtm::Delroute, NlmF::empty()),
        };
        let message = route_message(route, change)?;
        let acked: std::result::Result<Vec<Rtmsg>, Failure> = self.request(kind, flags | NlmF::ACK, message);
        acked.map(drop).map_err(|failure| refused(route, change, failure))
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
            let request = dump_request(family)?;
            let routes: Vec<Rtmsg> =
                self.request(Rtm::Getroute, NlmF::DUMP, request).map_err(|f| failed("listing routes", f))?;
            lines.extend(routes.iter().filter_map(|route| describe(route, &links, table)));
        }
        Ok(lines)
    }

    /// Sends one request and collects the payloads of the answer: a dump's
    /// messages up to DONE, or nothing up to the ACK.
    fn request<P>(&mut self, kind: Rtm, flags: NlmF, payload: P) -> std::result::Result<Vec<P>, Failure>
    where
        P: Size + ToBytes + FromBytesWithInput<Input = usize> + Clone + fmt::Debug,
    {
        self.seq = self.seq.wrapping_add(1);
        let message = NlmsghdrBuilder::default()
            .nl_type(kind)
            .nl_flags(NlmF::REQUEST | flags)
            .nl_seq(self.seq)
            .nl_payload(NlPayload::Payload(payload))
            .build()
            .map_err(|e| Failure::Socket(e.to_string()))?;
        self.socket.send(&message)?;
        let mut answer = Vec::new();
        loop {
            let (messages, _) = self.socket.recv::<Rtm, P>()?;
            for message in messages {
                let message = message?;
                if *message.nl_seq() != self.seq {
                    continue;
                }
                match message.nl_payload() {
                    NlPayload::Payload(p) => answer.push(p.clone()),
                    NlPayload::Err(e) => return Err(kernel_error(*e.error(), e.ext_ack().iter())),
                    NlPayload::DumpExtAck(e) if *e.error() != 0 => {
                        return Err(kernel_error(*e.error(), e.ext_ack().iter()))
                    }
                    NlPayload::Ack(_) | NlPayload::DumpExtAck(_) | NlPayload::Empty => return Ok(answer),
                }
            }
        }
    }
}

fn kernel_error<'a, I>(code: i32, ext_ack: I) -> Failure
where
    I: Iterator<Item = &'a neli::genl::Nlattr<NlmsgerrAttr, Buffer>>,
{
    let text = ext_ack
        .into_iter()
        .find(|attr| *attr.nla_type().nla_type() == NlmsgerrAttr::Msg)
        .map(|attr| c_string(attr.nla_payload().as_ref()));
    Failure::Kernel(Errno::from_raw(code.saturating_neg()), text.filter(|t| !t.is_empty()))
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

/// The fixed part of a route message (struct rtmsg) and its attributes.
struct Header {
    family: Family,
    dst_len: u8,
    table: RtTable,
    protocol: Rtprot,
    scope: RtScope,
    kind: Rtn,
    flags: u32,
}

fn rtmsg(header: Header, attrs: Vec<Rtattr<Rta, Buffer>>) -> Result<Rtmsg> {
    RtmsgBuilder::default()
        .rtm_family(match header.family {
            Family::V4 => RtAddrFamily::Inet,
            Family::V6 => RtAddrFamily::Inet6,
        })
        .rtm_dst_len(header.dst_len)
        .rtm_src_len(0)
        .rtm_tos(0)
        .rtm_table(header.table)
        .rtm_protocol(header.protocol)
        .rtm_scope(header.scope)
        .rtm_type(header.kind)
        .rtm_flags(RtmF::from_bits_retain(header.flags))
        .rtattrs(attrs.into_iter().collect::<RtBuffer<Rta, Buffer>>())
        .build()
        .map_err(|e| Error::new(format!("cannot build a route request: {e}")))
}

fn dump_request(family: Family) -> Result<Rtmsg> {
    let header = Header {
        family,
        dst_len: 0,
        table: RtTable::Unspec,
        protocol: Rtprot::Unspec,
        scope: RtScope::Universe,
        kind: Rtn::Unspec,
        flags: 0,
    };
    rtmsg(header, Vec::new())
}

/// The RTM_NEWROUTE/RTM_DELROUTE body, as `ip route replace/add/del` sends it.
fn route_message(route: &CheckedRoute, change: Change) -> Result<Rtmsg> {
    let spec = &route.spec;
    let table = spec.table.unwrap_or(TABLE_MAIN);
    let header = Header {
        family: spec.family,
        dst_len: spec.prefix_len,
        // Tables above 255 do not fit the header's byte: RTA_TABLE carries them.
        table: u8::try_from(table).map(RtTable::from).unwrap_or(RtTable::Unspec),
        // A delete matches any protocol, scope and type, as `ip route del` does.
        protocol: if change == Change::Delete { Rtprot::Unspec } else { Rtprot::Boot },
        scope: match (change, spec.via) {
            (Change::Delete, _) => RtScope::Nowhere,
            // With no gateway the destination is on the link itself.
            (_, None) => RtScope::Link,
            (_, Some(_)) => RtScope::Universe,
        },
        kind: if change == Change::Delete { Rtn::Unspec } else { Rtn::Unicast },
        flags: if spec.onlink { RTNH_F_ONLINK } else { 0 },
    };
    let mut attrs = vec![attr(RTA_TABLE, &table.to_ne_bytes())?];
    if spec.prefix_len > 0 {
        attrs.push(attr(RTA_DST, &octets(spec.dest))?);
    }
    if let Some(via) = spec.via {
        attrs.push(attr(RTA_GATEWAY, &octets(via))?);
    }
    if let Some(oif) = route.oif {
        attrs.push(attr(RTA_OIF, &oif.to_ne_bytes())?);
    }
    if let Some(metric) = spec.metric {
        attrs.push(attr(RTA_PRIORITY, &metric.to_ne_bytes())?);
    }
    if let Some(src) = spec.src {
        attrs.push(attr(RTA_PREFSRC, &octets(src))?);
    }
    if let Some(mtu) = spec.mtu {
        // RTA_METRICS nests one attribute: RTAX_MTU, a u32 (4-byte header + 4).
        let mut nested = Vec::with_capacity(8);
        nested.extend_from_slice(&8u16.to_ne_bytes());
        nested.extend_from_slice(&RTAX_MTU.to_ne_bytes());
        nested.extend_from_slice(&mtu.to_ne_bytes());
        attrs.push(attr(RTA_METRICS, &nested)?);
    }
    rtmsg(header, attrs)
}

fn attr(kind: u16, payload: &[u8]) -> Result<Rtattr<Rta, Buffer>> {
    RtattrBuilder::default()
        .rta_type(Rta::from(kind))
        .rta_payload(payload)
        .build()
        .map_err(|e| Error::new(format!("cannot build a route attribute: {e}")))
}

fn octets(addr: IpAddr) -> Vec<u8> {
    match addr {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// One dumped route in `ip route`'s words and order (iproute2's
/// print_route), or None when `ip route` would not show it: a cached clone,
/// another table than the one asked for, a family other than IPv4 and IPv6.
fn describe(route: &Rtmsg, links: &[Link], table_filter: Option<u32>) -> Option<String> {
    let family = match route.rtm_family() {
        RtAddrFamily::Inet => Family::V4,
        RtAddrFamily::Inet6 => Family::V6,
        _ => return None,
    };
    let mut tb: [Option<&[u8]>; 32] = [None; 32];
    for a in route.rtattrs().iter() {
        if let Some(slot @ None) = tb.get_mut(usize::from(u16::from(a.rta_type()))) {
            *slot = Some(a.rta_payload().as_ref());
        }
    }
    let at = |kind: u16| tb[usize::from(kind)];
    let flags = route.rtm_flags().bits();
    let table = at(RTA_TABLE).and_then(u32_of).unwrap_or_else(|| u32::from(u8::from(*route.rtm_table())));
    if flags & RTM_F_CLONED != 0 || table_filter.is_some_and(|wanted| wanted != table) {
        return None;
    }
    let mut words: Vec<String> = Vec::new();
    let kind = u8::from(*route.rtm_type());
    if kind != RTN_UNICAST {
        words.push(name_of(ROUTE_TYPES, kind));
    }
    words.push(prefix(family, at(RTA_DST), *route.rtm_dst_len()).unwrap_or_else(|| "default".to_string()));
    if let Some(from) = prefix(family, at(RTA_SRC), *route.rtm_src_len()) {
        words.push(format!("from {from}"));
    }
    if *route.rtm_tos() != 0 {
        words.push(format!("tos 0x{:02x}", route.rtm_tos()));
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
    let protocol = u8::from(*route.rtm_protocol());
    if protocol != RTPROT_BOOT {
        words.push(format!("proto {}", name_of(PROTOCOLS, protocol)));
    }
    let scope = u8::from(*route.rtm_scope());
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

    fn dumped(family: Family, dst_len: u8, protocol: u8, scope: u8, flags: u32, attrs: &[(u16, &[u8])]) -> Rtmsg {
        let header = Header {
            family,
            dst_len,
            table: RtTable::Main,
            protocol: Rtprot::from(protocol),
            scope: RtScope::from(scope),
            kind: Rtn::Unicast,
            flags,
        };
        let attrs = attrs.iter().map(|(kind, payload)| attr(*kind, payload).unwrap()).collect();
        rtmsg(header, attrs).unwrap()
    }

    #[test]
    fn the_socket_is_close_on_exec() {
        use std::os::fd::AsRawFd;
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
        let message = route_message(&route, Change::Replace).unwrap();
        assert_eq!(u8::from(*message.rtm_table()), 0, "above 255: RTA_TABLE only");
        assert_eq!(message.rtm_flags().bits(), RTNH_F_ONLINK);
        assert_eq!(u8::from(*message.rtm_protocol()), RTPROT_BOOT);
        assert_eq!(
            describe(&message, &names(), None).as_deref(),
            Some("192.0.2.0/24 via 198.51.100.1 dev v0 table 1000 onlink mtu 1400")
        );
        let delete = route_message(&route, Change::Delete).unwrap();
        assert_eq!(u8::from(*delete.rtm_scope()), 255, "a delete matches any scope");
    }
}
