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

use nix::errno::Errno;

use crate::error::{Error, Result};
use crate::route::{Family, RouteSpec, TABLE_MAIN};

mod print;
mod routes;
mod wire;

use print::{attributes, c_string, describe};
use routes::{route_message, Header};
use wire::Wire;

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
    wire: Wire,
}

impl RouteSocket {
    pub fn open() -> Result<RouteSocket> {
        let wire = Wire::open().map_err(|e| Error::new(format!("cannot open a netlink socket: {e}")))?;
        Ok(RouteSocket { wire })
    }

    /// Every interface, in the kernel's order (by index, as `ip link` lists them).
    pub fn links(&mut self) -> Result<Vec<Link>> {
        let infos = self
            .wire
            .request(RTM_GETLINK, NLM_F_DUMP, &[0; IFINFOMSG_LEN])
            .map_err(|f| failed("listing interfaces", f))?;
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
        self.wire
            .request(kind, flags | NLM_F_ACK, &message)
            .map(drop)
            .map_err(|failure| refused(route, change, failure))
    }

    /// Sets the route with replace semantics, and says whether it is new: a
    /// route this call created can be undone by deleting it, one it replaced
    /// cannot. Create-only first, replace only when the kernel says EEXIST.
    pub fn set(&mut self, route: &CheckedRoute) -> Result<bool> {
        let message = route_message(route, Change::Create);
        match self.wire.request(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, &message) {
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
            let routes =
                self.wire.request(RTM_GETROUTE, NLM_F_DUMP, &request).map_err(|f| failed("listing routes", f))?;
            lines.extend(routes.iter().filter_map(|route| describe(route, &links, table)));
        }
        Ok(lines)
    }
}

/// An interface from an RTM_NEWLINK message: struct ifinfomsg (its index
/// at offset 4), then attributes, IFLA_IFNAME among them.
fn link(info: &[u8]) -> Option<Link> {
    let index = i32::from_ne_bytes(info.get(4..8)?.try_into().ok()?);
    let (_, name) = attributes(info.get(IFINFOMSG_LEN..)?).into_iter().find(|(kind, _)| *kind == IFLA_IFNAME)?;
    Some(Link { index: u32::try_from(index).ok()?, name: c_string(name) })
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

#[cfg(test)]
mod tests {
    use super::print::*;
    use super::routes::*;
    use super::wire::*;
    use super::*;
    use std::os::fd::AsRawFd;

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
        let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", socket.wire.socket.as_raw_fd())).unwrap();
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
