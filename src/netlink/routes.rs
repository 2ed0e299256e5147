//! Route changes: the RTM_NEWROUTE and RTM_DELROUTE messages.

use std::net::IpAddr;

use super::print::RTN_UNICAST;
use super::wire::align;
use super::*;

/// The fixed part of a route message: struct rtmsg, less its source length
/// and TOS, which hardbox never sets.
pub(super) struct Header {
    pub(super) family: Family,
    pub(super) dst_len: u8,
    pub(super) table: u8,
    pub(super) protocol: u8,
    pub(super) scope: u8,
    pub(super) kind: u8,
    pub(super) flags: u32,
}

impl Header {
    pub(super) fn bytes(&self) -> [u8; RTMSG_LEN] {
        let family = match self.family {
            Family::V4 => libc::AF_INET,
            Family::V6 => libc::AF_INET6,
        } as u8; // ok: 2 and 10
        let [f0, f1, f2, f3] = self.flags.to_ne_bytes();
        [family, self.dst_len, 0, 0, self.table, self.protocol, self.scope, self.kind, f0, f1, f2, f3]
    }
}

/// Appends one attribute (struct rtattr, then the payload padded to 4 bytes).
pub(super) fn push_attr(body: &mut Vec<u8>, kind: u16, payload: &[u8]) {
    body.extend_from_slice(&(4 + payload.len() as u16).to_ne_bytes()); // ok: payloads here are a few bytes
    body.extend_from_slice(&kind.to_ne_bytes());
    body.extend_from_slice(payload);
    body.resize(align(body.len()), 0);
}

pub(super) fn push_address(body: &mut Vec<u8>, kind: u16, address: IpAddr) {
    match address {
        IpAddr::V4(a) => push_attr(body, kind, &a.octets()),
        IpAddr::V6(a) => push_attr(body, kind, &a.octets()),
    }
}

/// The RTM_NEWROUTE/RTM_DELROUTE body, as `ip route replace/add/del` sends it.
pub(super) fn route_message(route: &CheckedRoute, change: Change) -> Vec<u8> {
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
