//! The `ip route` printer: dumped routes in iproute2's words and order.

use std::net::IpAddr;

use super::*;
use crate::route::table_name;

/// One dumped route (struct rtmsg, then attributes) in `ip route`'s words
/// and order (iproute2's print_route), or None when `ip route` would not
/// show it: a cached clone, another table than the one asked for, a family
/// other than IPv4 and IPv6, a message too short to be a route.
pub(super) fn describe(route: &[u8], links: &[Link], table_filter: Option<u32>) -> Option<String> {
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
pub(super) fn describe_metrics(nest: &[u8]) -> Vec<String> {
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
pub(super) fn seconds_or_ms(ms: u32) -> String {
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
pub(super) fn attributes(mut bytes: &[u8]) -> Vec<(u16, &[u8])> {
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
pub(super) fn prefix(family: Family, bytes: Option<&[u8]>, len: u8) -> Option<String> {
    match bytes.and_then(address) {
        Some(addr) if len == family.bits() => Some(addr.to_string()),
        Some(addr) => Some(format!("{addr}/{len}")),
        None if len > 0 => Some(format!("0/{len}")),
        None => None,
    }
}

pub(super) fn address(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}

/// A NUL-terminated string attribute, up to its NUL.
pub(super) fn c_string(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

pub(super) fn u32_of(bytes: &[u8]) -> Option<u32> {
    Some(u32::from_ne_bytes(bytes.get(..4)?.try_into().ok()?))
}

/// iproute2's name for a number, or the number itself.
pub(super) fn name_of(table: &[(u8, &str)], value: u8) -> String {
    match table.iter().find(|(number, _)| *number == value) {
        Some((_, name)) => (*name).to_string(),
        None => value.to_string(),
    }
}

pub(super) const RTN_UNICAST: u8 = 1;
pub(super) const ROUTE_TYPES: &[(u8, &str)] = &[
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
pub(super) const PROTOCOLS: &[(u8, &str)] = &[
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
pub(super) const SCOPES: &[(u8, &str)] =
    &[(0, "global"), (200, "site"), (253, "link"), (254, "host"), (255, "nowhere")];
/// RFC 4191 router preferences, as RTA_PREF carries them.
pub(super) const PREFERENCES: &[(u8, &str)] = &[(0, "medium"), (1, "high"), (3, "low")];
/// rtm_flags in the order iproute2 prints them.
pub(super) const FLAGS: &[(u32, &str)] = &[
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
pub(super) const METRICS: [&str; 18] = [
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
pub(super) const RTAX_RTT: usize = 4;
pub(super) const RTAX_RTTVAR: usize = 5;
pub(super) const RTAX_HOPLIMIT: usize = 10;
pub(super) const RTAX_FEATURES: usize = 12;
pub(super) const RTAX_RTO_MIN: usize = 13;
pub(super) const RTAX_CC_ALGO: usize = 16;
pub(super) const RTAX_FEATURE_ECN: u32 = 1;
