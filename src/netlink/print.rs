//! The `ip route` printer: dumped routes, as neli parsed them, in
//! iproute2's words and order (its print_route and print_rta_metrics).

use std::io::Cursor;
use std::net::IpAddr;

use neli::consts::rtnl::{RtAddrFamily, Rta, Rtprot};
use neli::rtnl::Rtmsg;
use neli::types::{Buffer, RtBuffer};
use neli::FromBytesWithInput;

use super::Link;
use crate::route::{table_name, Family, TABLE_MAIN};

/// RTA_PREF (linux/rtnetlink.h), the RFC 4191 router preference: neli
/// names it only on glibc targets, and hardbox is built for musl.
const RTA_PREF: Rta = Rta::UnrecognizedConst(20);
/// RTAX_LOCK inside RTA_METRICS: the bit mask of locked metrics.
const RTAX_LOCK: usize = 1;

/// One dumped route in `ip route`'s words and order, or None when `ip
/// route` would not show it: a cached clone, another table than the one
/// asked for, a family other than IPv4 and IPv6.
pub(super) fn describe(route: &Rtmsg, links: &[Link], table_filter: Option<u32>) -> Option<String> {
    let family = match route.rtm_family() {
        RtAddrFamily::Inet => Family::V4,
        RtAddrFamily::Inet6 => Family::V6,
        _ => return None,
    };
    // The first of each type, as iproute2's parse_rtattr keeps it.
    let mut tb: [Option<&[u8]>; 32] = [None; 32];
    for attr in route.rtattrs().iter() {
        if let Some(slot @ None) = tb.get_mut(usize::from(u16::from(attr.rta_type()))) {
            *slot = Some(attr.rta_payload().as_ref());
        }
    }
    let at = |kind: Rta| tb.get(usize::from(u16::from(kind))).copied().flatten();
    let flags = route.rtm_flags().bits();
    let table = at(Rta::Table).and_then(u32_of).unwrap_or(u32::from(u8::from(route.rtm_table())));
    if flags & libc::RTM_F_CLONED != 0 || table_filter.is_some_and(|wanted| wanted != table) {
        return None;
    }
    let (dst_len, src_len, tos) = (*route.rtm_dst_len(), *route.rtm_src_len(), *route.rtm_tos());
    let (kind, protocol, scope) =
        (u8::from(route.rtm_type()), u8::from(route.rtm_protocol()), u8::from(route.rtm_scope()));
    let mut words: Vec<String> = Vec::new();
    if kind != RTN_UNICAST {
        words.push(name_of(ROUTE_TYPES, kind));
    }
    words.push(prefix(family, at(Rta::Dst), dst_len).unwrap_or_else(|| "default".to_string()));
    if let Some(from) = prefix(family, at(Rta::Src), src_len) {
        words.push(format!("from {from}"));
    }
    if tos != 0 {
        words.push(format!("tos 0x{tos:02x}"));
    }
    if let Some(gw) = at(Rta::Gateway).and_then(address) {
        words.push(format!("via {gw}"));
    }
    if let Some(oif) = at(Rta::Oif).and_then(u32_of) {
        match links.iter().find(|link| link.index == oif) {
            Some(link) => words.push(format!("dev {}", link.name)),
            None => words.push(format!("dev if{oif}")),
        }
    }
    if table_filter.is_none() && table != 0 && table != TABLE_MAIN {
        words.push(format!("table {}", table_name(table)));
    }
    if protocol != u8::from(Rtprot::Boot) {
        words.push(format!("proto {}", name_of(PROTOCOLS, protocol)));
    }
    if scope != 0 {
        words.push(format!("scope {}", name_of(SCOPES, scope)));
    }
    if let Some(src) = at(Rta::Prefsrc).and_then(address) {
        words.push(format!("src {src}"));
    }
    if let Some(metric) = at(Rta::Priority).and_then(u32_of) {
        words.push(format!("metric {metric}"));
    }
    words.extend(FLAGS.iter().filter(|(bit, _)| flags & bit != 0).map(|(_, name)| name.to_string()));
    if let Some(flow) = at(Rta::Flow).and_then(u32_of) {
        // Routing realms: the destination's in the low half, the source's in the high.
        let realm = |id: u32| if id == 0 { "cosmos".to_string() } else { id.to_string() };
        words.push(match flow >> 16 {
            0 => format!("realm {}", realm(flow & 0xffff)),
            from => format!("realms {}/{}", realm(from), realm(flow & 0xffff)),
        });
    }
    if let Some(info) = at(Rta::Cacheinfo) {
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
    if let Some(metrics) = at(Rta::Metrics) {
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
    // A nest neli cannot read shows no metrics rather than wrong ones.
    let Ok(attrs) = RtBuffer::<u16, Buffer>::from_bytes_with_input(&mut Cursor::new(nest), nest.len()) else {
        return Vec::new();
    };
    let mut values: [Option<&[u8]>; 18] = [None; 18];
    for attr in attrs.iter() {
        if let Some(slot) = values.get_mut(usize::from(*attr.rta_type())) {
            *slot = Some(attr.rta_payload().as_ref());
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
pub(super) fn c_string(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

pub(super) fn u32_of(bytes: &[u8]) -> Option<u32> {
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
    use neli::rtnl::{RtattrBuilder, RtmsgBuilder};

    use super::*;

    pub(crate) fn names() -> Vec<Link> {
        vec![Link { index: 2, name: "v0".to_string() }]
    }

    fn dumped(family: RtAddrFamily, dst_len: u8, protocol: u8, scope: u8, flags: u32, attrs: &[(u16, &[u8])]) -> Rtmsg {
        let rtattrs = attrs
            .iter()
            .map(|(kind, payload)| {
                RtattrBuilder::default().rta_type(Rta::from(*kind)).rta_payload(Buffer::from(*payload)).build().unwrap()
            })
            .collect();
        RtmsgBuilder::default()
            .rtm_family(family)
            .rtm_dst_len(dst_len)
            .rtm_src_len(0)
            .rtm_tos(0)
            .rtm_table(u8::try_from(TABLE_MAIN).unwrap().into())
            .rtm_protocol(protocol.into())
            .rtm_scope(scope.into())
            .rtm_type(RTN_UNICAST.into())
            .rtm_flags(neli::consts::rtnl::RtmF::from_bits_retain(flags))
            .rtattrs(rtattrs)
            .build()
            .unwrap()
    }

    #[test]
    fn a_route_reads_as_ip_route_prints_it() {
        let route = dumped(
            RtAddrFamily::Inet,
            24,
            3,
            0,
            4,
            &[
                (1, &[203, 0, 113, 0]),
                (5, &[198, 51, 100, 1]),
                (4, &2u32.to_ne_bytes()),
                (6, &5u32.to_ne_bytes()),
                (15, &1000u32.to_ne_bytes()),
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
    fn kernel_routes_show_proto_scope_src_pref_and_an_unknown_interface_by_index() {
        let src = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
        let route = dumped(RtAddrFamily::Inet6, 0, 2, 253, 0, &[(4, &9u32.to_ne_bytes()), (7, &src), (20, &[1])]);
        assert_eq!(
            describe(&route, &names(), None).as_deref(),
            Some("default dev if9 proto kernel scope link src 2001:db8::2 pref high")
        );
    }

    #[test]
    fn attributes_of_the_wrong_size_are_skipped_not_trusted() {
        let route =
            dumped(RtAddrFamily::Inet, 8, 3, 0, 0, &[(5, &[1, 2, 3]), (6, &[1]), (8, &[200, 0, 2, 0, 1]), (20, &[])]);
        assert_eq!(describe(&route, &names(), None).as_deref(), Some("0/8"));
        let other = dumped(RtAddrFamily::Netlink, 8, 3, 0, 0, &[]);
        assert_eq!(describe(&other, &names(), None), None, "neither IPv4 nor IPv6");
        let cloned = dumped(RtAddrFamily::Inet, 8, 3, 0, libc::RTM_F_CLONED, &[]);
        assert_eq!(describe(&cloned, &names(), None), None);
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
        assert!(describe_metrics(&nest[..nest.len() - 1]).is_empty(), "a cut-short nest shows nothing");
        assert_eq!(
            [seconds_or_ms(999), seconds_or_ms(3000), seconds_or_ms(1230), seconds_or_ms(1001)],
            ["999ms", "3s", "1.23s", "1.001s"]
        );
    }
}
