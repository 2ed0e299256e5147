//! Route changes: the plan of one (add, replace or delete), its
//! RTM_NEWROUTE or RTM_DELROUTE message, and the kernel's refusal as a
//! message that names the cause and the fix.

use std::fmt;
use std::net::IpAddr;

use neli::consts::nl::NlmF;
use neli::consts::rtnl::{RtAddrFamily, RtScope, RtTable, Rta, RtmF, Rtn, Rtprot};
use neli::rtnl::{Rtattr, RtattrBuilder, Rtmsg, RtmsgBuilder};
use neli::types::{Buffer, RtBuffer};
use neli::{Size, ToBytes};
use nix::errno::Errno;

use super::wire::{unbuilt, Failure};
use super::{failed, CAP_HINT};
use crate::error::Error;
use crate::route::{Family, RouteSpec, TABLE_MAIN};

/// rtm_flags' RTNH_F_ONLINK (linux/rtnetlink.h): a next-hop flag that
/// neli's RtmF does not name.
pub(super) const RTNH_F_ONLINK: u32 = 4;
/// RTAX_MTU inside RTA_METRICS (linux/rtnetlink.h); neli has no RTAX names.
pub(super) const RTAX_MTU: u16 = 2;

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

impl Change {
    /// The RTM_NEWROUTE/RTM_DELROUTE flags, the ACK asked for in each.
    pub(super) fn flags(self) -> NlmF {
        NlmF::ACK
            | match self {
                Change::Replace => NlmF::CREATE | NlmF::REPLACE,
                Change::Create => NlmF::CREATE | NlmF::EXCL,
                Change::Delete => NlmF::empty(),
            }
    }
}

/// A route the kernel has been asked about (its interface exists) but not
/// yet changed: the result of `RouteSocket::check`, the input of `apply`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedRoute {
    pub(super) spec: RouteSpec,
    pub(super) oif: Option<u32>,
}

impl fmt::Display for CheckedRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.spec.fmt(f)
    }
}

pub(super) fn family(family: Family) -> RtAddrFamily {
    match family {
        Family::V4 => RtAddrFamily::Inet,
        Family::V6 => RtAddrFamily::Inet6,
    }
}

fn attribute<T: Size>(kind: T, payload: impl Size + ToBytes) -> Result<Rtattr<T, Buffer>, Failure> {
    RtattrBuilder::default().rta_type(kind).rta_payload(payload).build().map_err(unbuilt)
}

fn address(kind: Rta, address: IpAddr) -> Result<Rtattr<Rta, Buffer>, Failure> {
    match address {
        IpAddr::V4(a) => attribute(kind, a.octets()),
        IpAddr::V6(a) => attribute(kind, a.octets()),
    }
}

/// The RTM_NEWROUTE/RTM_DELROUTE body, as `ip route replace/add/del` sends it.
pub(super) fn route_message(route: &CheckedRoute, change: Change) -> Result<Rtmsg, Failure> {
    let spec = &route.spec;
    let table = spec.table.unwrap_or(TABLE_MAIN);
    let delete = change == Change::Delete;
    let mut attrs = RtBuffer::new();
    attrs.push(attribute(Rta::Table, table)?);
    if spec.prefix_len > 0 {
        attrs.push(address(Rta::Dst, spec.dest)?);
    }
    if let Some(via) = spec.via {
        attrs.push(address(Rta::Gateway, via)?);
    }
    if let Some(oif) = route.oif {
        attrs.push(attribute(Rta::Oif, oif)?);
    }
    if let Some(metric) = spec.metric {
        attrs.push(attribute(Rta::Priority, metric)?);
    }
    if let Some(src) = spec.src {
        attrs.push(address(Rta::Prefsrc, src)?);
    }
    if let Some(mtu) = spec.mtu {
        // RTA_METRICS nests one attribute: RTAX_MTU, a u32.
        let mtu = attribute(RTAX_MTU, mtu)?;
        let metrics = attribute(Rta::Metrics, Buffer::new())?.nest(&mtu).map_err(unbuilt)?;
        attrs.push(metrics);
    }
    RtmsgBuilder::default()
        .rtm_family(family(spec.family))
        .rtm_dst_len(spec.prefix_len)
        .rtm_src_len(0)
        .rtm_tos(0)
        // Tables above 255 do not fit the header's byte: RTA_TABLE carries them.
        .rtm_table(RtTable::from(u8::try_from(table).unwrap_or(0)))
        // A delete matches any protocol, scope and type, as `ip route del` does.
        .rtm_protocol(if delete { Rtprot::Unspec } else { Rtprot::Boot })
        .rtm_scope(match (change, spec.via) {
            (Change::Delete, _) => RtScope::Nowhere,
            // With no gateway the destination is on the link itself.
            (_, None) => RtScope::Link,
            (_, Some(_)) => RtScope::Universe,
        })
        .rtm_type(if delete { Rtn::Unspec } else { Rtn::Unicast })
        .rtm_flags(RtmF::from_bits_retain(if spec.onlink { RTNH_F_ONLINK } else { 0 }))
        .rtattrs(attrs)
        .build()
        .map_err(unbuilt)
}

/// The kernel's refusal as one line: the route, the cause, the fix.
pub(super) fn refused(route: &CheckedRoute, change: Change, failure: Failure) -> Error {
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
    use std::io::Cursor;

    use neli::FromBytesWithInput;

    use super::*;
    use crate::netlink::{print, Link};

    #[test]
    fn requests_carry_the_table_the_gateway_and_the_flags() {
        let spec = RouteSpec::parse_line("192.0.2.0/24 via 198.51.100.1 table 1000 mtu 1400 onlink dev v0").unwrap();
        let route = CheckedRoute { spec, oif: Some(2) };
        let mut bytes = Cursor::new(Vec::new());
        route_message(&route, Change::Replace).unwrap().to_bytes(&mut bytes).unwrap();
        let bytes = bytes.into_inner();
        // struct rtmsg: the table at byte 4, the protocol at 5, the scope at 6, the flags from 8.
        assert_eq!(bytes[4], 0, "above 255: RTA_TABLE only");
        assert_eq!(bytes[5], u8::from(Rtprot::Boot));
        assert_eq!(bytes[8..12], RTNH_F_ONLINK.to_ne_bytes());
        let read = Rtmsg::from_bytes_with_input(&mut Cursor::new(&bytes), bytes.len()).unwrap();
        let links = [Link { index: 2, name: "v0".to_string() }];
        assert_eq!(
            print::describe(&read, &links, None).as_deref(),
            Some("192.0.2.0/24 via 198.51.100.1 dev v0 table 1000 onlink mtu 1400")
        );
        let delete = route_message(&route, Change::Delete).unwrap();
        assert_eq!(*delete.rtm_scope(), RtScope::Nowhere, "a delete matches any scope");
        assert_eq!(*delete.rtm_protocol(), Rtprot::Unspec);
    }

    #[test]
    fn each_change_asks_for_an_ack() {
        assert_eq!(Change::Replace.flags(), NlmF::ACK | NlmF::CREATE | NlmF::REPLACE);
        assert_eq!(Change::Create.flags(), NlmF::ACK | NlmF::CREATE | NlmF::EXCL);
        assert_eq!(Change::Delete.flags(), NlmF::ACK);
    }
}
