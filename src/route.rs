//! The route spec: route-add's grammar, its validation, and the canonical
//! text used in messages. Pure (no syscalls), so every rule here can be
//! tested and fuzzed without a kernel; what only the kernel knows (does the
//! interface exist, is the gateway reachable) is checked in `netlink`.
//!
//! Grammar: `DEST [via GW] [dev IFACE] [metric N] [table ID] [src ADDR] [mtu N] [onlink]`
//! with DEST a prefix (`10.0.0.0/8`), a bare address (a host route) or
//! `default`. Each keyword at most once; nothing else.

use std::fmt;
use std::net::IpAddr;

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub fn of(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }

    /// The length of a host route: 32 or 128.
    pub fn bits(self) -> u8 {
        match self {
            Family::V4 => 32,
            Family::V6 => 128,
        }
    }

    fn unspecified(self) -> IpAddr {
        match self {
            Family::V4 => IpAddr::from([0u8; 4]),
            Family::V6 => IpAddr::from([0u8; 16]),
        }
    }

    /// The smallest MTU the family's protocol allows (RFC 791, RFC 8200).
    fn min_mtu(self) -> u32 {
        match self {
            Family::V4 => 68,
            Family::V6 => 1280,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        })
    }
}

/// The main table: where a route goes when no table is named, as with `ip route`.
pub const TABLE_MAIN: u32 = 254;
const TABLE_NAMES: [(&str, u32); 3] = [("default", 253), ("main", TABLE_MAIN), ("local", 255)];

/// One route, validated as far as is possible without asking the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    pub family: Family,
    /// The network address (host bits clear); the unspecified address for `default`.
    pub dest: IpAddr,
    pub prefix_len: u8,
    pub via: Option<IpAddr>,
    pub dev: Option<String>,
    pub metric: Option<u32>,
    pub table: Option<u32>,
    pub src: Option<IpAddr>,
    pub mtu: Option<u32>,
    pub onlink: bool,
}

impl RouteSpec {
    /// A route to add, as one string: `"10.0.0.0/8 via 172.17.0.1 dev eth0"`,
    /// optionally led by `-4` or `-6` (which decides the family of `default`
    /// when nothing else does). This is how dhi-bootstrap reads `--route` and
    /// `ROUTES`.
    pub fn parse_line(line: &str) -> Result<RouteSpec> {
        let mut words: Vec<&str> = line.split_whitespace().collect();
        let family = match words.first() {
            Some(&"-4") => Some(Family::V4),
            Some(&"-6") => Some(Family::V6),
            _ => None,
        };
        if family.is_some() {
            words.remove(0);
        }
        RouteSpec::parse(&words, family)
    }

    /// A route to add or replace, as route-add's words after the options.
    /// `family` is what `-4`/`-6` asked for, if anything.
    pub fn parse(words: &[&str], family: Option<Family>) -> Result<RouteSpec> {
        let spec = RouteSpec::parse_selector(words, family)?;
        if spec.via.is_none() && spec.dev.is_none() {
            return Err(Error::new(format!(
                "{spec}: says neither where to send (via GATEWAY) nor out of which interface (dev IFACE)"
            )));
        }
        Ok(spec)
    }

    /// A route to delete: like `parse`, but DEST alone is enough (the kernel
    /// removes the first route that matches what is given).
    pub fn parse_selector(words: &[&str], family: Option<Family>) -> Result<RouteSpec> {
        let Some((first, rest)) = words.split_first() else {
            return Err(Error::new("missing destination: give a prefix (10.0.0.0/8), an address, or default"));
        };
        let mut fields = Fields::default();
        let mut rest = rest.iter();
        while let Some(&word) = rest.next() {
            if word == "onlink" {
                if fields.onlink {
                    return Err(Error::new("onlink given twice"));
                }
                fields.onlink = true;
                continue;
            }
            let slot = match word {
                "via" => &mut fields.via,
                "dev" => &mut fields.dev,
                "metric" => &mut fields.metric,
                "table" => &mut fields.table,
                "src" => &mut fields.src,
                "mtu" => &mut fields.mtu,
                _ => {
                    return Err(Error::new(format!(
                        "unexpected {word:?} after {first}: expected via, dev, metric, table, src, mtu or onlink"
                    )))
                }
            };
            if slot.is_some() {
                return Err(Error::new(format!("{word} given twice")));
            }
            match rest.next() {
                Some(&value) if !value.is_empty() => *slot = Some(value),
                _ => return Err(Error::new(format!("{word} needs a value"))),
            }
        }
        fields.build(first, family)
    }
}

/// The raw words of a spec, each keyword seen at most once.
#[derive(Default)]
struct Fields<'a> {
    via: Option<&'a str>,
    dev: Option<&'a str>,
    metric: Option<&'a str>,
    table: Option<&'a str>,
    src: Option<&'a str>,
    mtu: Option<&'a str>,
    onlink: bool,
}

impl Fields<'_> {
    fn build(self, dest_text: &str, asked: Option<Family>) -> Result<RouteSpec> {
        let via = self.via.map(|text| address("via", text)).transpose()?;
        let src = self.src.map(|text| address("src", text)).transpose()?;
        let (dest, prefix_len) = match dest_text {
            "default" => {
                let family = via.or(src).map(|a| Family::of(&a)).or(asked).unwrap_or(Family::V4);
                (family.unspecified(), 0)
            }
            _ => prefix(dest_text)?,
        };
        let family = Family::of(&dest);
        if let Some(asked) = asked.filter(|&asked| asked != family) {
            return Err(Error::new(format!("destination {dest_text} is {family}, but -{} was given", flag(asked))));
        }
        for (word, addr) in [("via", via), ("src", src)] {
            if let Some(addr) = addr.filter(|addr| Family::of(addr) != family) {
                return Err(Error::new(format!(
                    "{word} {addr} is {}, but destination {dest_text} is {family}",
                    Family::of(&addr)
                )));
            }
        }
        if let Some(gw) = via.filter(|gw| !usable_unicast(gw)) {
            return Err(Error::new(format!("via {gw}: not a gateway address (unspecified, multicast or broadcast)")));
        }
        if let Some(src) = src.filter(|src| !usable_unicast(src)) {
            return Err(Error::new(format!("src {src}: not a local address (unspecified, multicast or broadcast)")));
        }
        let dev = self.dev.map(interface_name).transpose()?;
        if let (Some(IpAddr::V6(gw)), None) = (via, &dev) {
            if gw.segments()[0] & 0xffc0 == 0xfe80 {
                return Err(Error::new(format!("via {gw} is link-local: say which interface with dev IFACE")));
            }
        }
        if self.onlink && (via.is_none() || dev.is_none()) {
            return Err(Error::new("onlink needs both via GATEWAY and dev IFACE"));
        }
        let mtu = match self.mtu {
            Some(text) => Some(number("mtu", text, family.min_mtu(), 65535)?),
            None => None,
        };
        Ok(RouteSpec {
            family,
            dest,
            prefix_len,
            via,
            dev,
            metric: self.metric.map(|text| number("metric", text, 0, u32::MAX)).transpose()?,
            table: self.table.map(parse_table).transpose()?,
            src,
            mtu,
            onlink: self.onlink,
        })
    }
}

fn flag(family: Family) -> char {
    match family {
        Family::V4 => '4',
        Family::V6 => '6',
    }
}

/// A routing table by number (1 to 4294967295) or by name (`main`, `local`, `default`).
pub fn parse_table(text: &str) -> Result<u32> {
    match TABLE_NAMES.iter().find(|(name, _)| *name == text) {
        Some(&(_, id)) => Ok(id),
        None => number("table", text, 1, u32::MAX).map_err(|_| {
            Error::new(format!("table {text:?}: give a number from 1 to 4294967295, main, local or default"))
        }),
    }
}

/// The table as `ip route` names it: `main`, `local`, `default`, or the number.
pub fn table_name(id: u32) -> String {
    match TABLE_NAMES.iter().find(|(_, number)| *number == id) {
        Some((name, _)) => (*name).to_string(),
        None => id.to_string(),
    }
}

fn address(word: &str, text: &str) -> Result<IpAddr> {
    text.parse().map_err(|_| Error::new(format!("{word} {text:?}: not an IPv4 or IPv6 address")))
}

/// `A.B.C.D/N`, `X::/N`, or a bare address as a host route.
fn prefix(text: &str) -> Result<(IpAddr, u8)> {
    let (addr_text, len_text) = match text.split_once('/') {
        Some((addr, len)) => (addr, Some(len)),
        None => (text, None),
    };
    let addr: IpAddr = addr_text
        .parse()
        .map_err(|_| Error::new(format!("destination {text:?}: not a prefix (10.0.0.0/8), an address, or default")))?;
    let family = Family::of(&addr);
    let len = match len_text {
        None => family.bits(),
        Some(len) => {
            let max = u32::from(family.bits());
            let len = number("prefix length", len, 0, max)
                .map_err(|_| Error::new(format!("destination {text}: the prefix length must be 0 to {max}")))?;
            len as u8 // ok: at most 128
        }
    };
    let network = mask(addr, len);
    if network != addr {
        return Err(Error::new(format!("destination {text} has host bits set: did you mean {network}/{len}?")));
    }
    Ok((addr, len))
}

/// The address with every bit past the first `len` cleared.
fn mask(addr: IpAddr, len: u8) -> IpAddr {
    let keep = |bits: u32| if len == 0 { 0 } else { u128::MAX << (bits - u32::from(len)) };
    match addr {
        IpAddr::V4(a) => IpAddr::from((u32::from(a) & keep(32) as u32).to_be_bytes()),
        IpAddr::V6(a) => IpAddr::from((u128::from(a) & keep(128)).to_be_bytes()),
    }
}

fn usable_unicast(addr: &IpAddr) -> bool {
    match addr {
        IpAddr::V4(a) => !(a.is_unspecified() || a.is_multicast() || a.is_broadcast()),
        IpAddr::V6(a) => !(a.is_unspecified() || a.is_multicast()),
    }
}

/// The kernel's rules for a device name (dev_valid_name): 1 to 15 bytes,
/// not `.` or `..`, no `/`, `:` or whitespace.
fn interface_name(text: &str) -> Result<String> {
    let bad = text.len() > 15
        || text == "."
        || text == ".."
        || text.chars().any(|c| c == '/' || c == ':' || c.is_whitespace() || c.is_control());
    if bad {
        return Err(Error::new(format!(
            "dev {text:?}: not an interface name (1 to 15 characters, no '/', ':' or spaces)"
        )));
    }
    Ok(text.to_string())
}

/// A decimal number in `min..=max`. Strict: digits only, so `+5`, `-1`,
/// `0x10`, ` 5` and `5k` are refused, and no leading zero (ip reads `010` as
/// octal 8; we refuse to guess).
fn number(word: &str, text: &str, min: u32, max: u32) -> Result<u32> {
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    let value = match text.parse::<u32>() {
        Ok(value) if digits && (text == "0" || !text.starts_with('0')) => Some(value),
        _ => None,
    };
    match value {
        Some(value) if (min..=max).contains(&value) => Ok(value),
        _ => Err(Error::new(format!("{word} {text:?}: give a number from {min} to {max}"))),
    }
}

impl fmt::Display for RouteSpec {
    /// The canonical text, in the grammar's order: `10.0.0.0/8 via 172.17.0.1 dev eth0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefix_len == 0 {
            f.write_str("default")?;
        } else if self.prefix_len == self.family.bits() {
            write!(f, "{}", self.dest)?;
        } else {
            write!(f, "{}/{}", self.dest, self.prefix_len)?;
        }
        if let Some(via) = self.via {
            write!(f, " via {via}")?;
        }
        if let Some(dev) = &self.dev {
            write!(f, " dev {dev}")?;
        }
        if let Some(metric) = self.metric {
            write!(f, " metric {metric}")?;
        }
        if let Some(table) = self.table {
            write!(f, " table {}", table_name(table))?;
        }
        if let Some(src) = self.src {
            write!(f, " src {src}")?;
        }
        if let Some(mtu) = self.mtu {
            write!(f, " mtu {mtu}")?;
        }
        if self.onlink {
            f.write_str(" onlink")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(line: &str) -> RouteSpec {
        RouteSpec::parse_line(line).unwrap_or_else(|e| panic!("{line}: {e}"))
    }

    fn refused(line: &str) -> String {
        match RouteSpec::parse_line(line) {
            Ok(spec) => panic!("{line}: accepted as {spec}"),
            Err(e) => e.message().to_string(),
        }
    }

    #[test]
    fn canonical_text_round_trips() {
        for line in [
            "10.0.0.0/8 via 172.17.0.1",
            "10.0.0.0/8 via 172.17.0.1 dev eth0 metric 5 table 100 src 172.17.0.2 mtu 1400 onlink",
            "default via 192.0.2.1",
            "default via 2001:db8::1",
            "192.0.2.7 dev eth0",
            "2001:db8::/32 via 2001:db8::1 table main",
            "2001:db8::1 dev eth0 table 1000",
            "0.0.0.0/0 dev eth0",
        ] {
            let spec = ok(line);
            assert_eq!(ok(&spec.to_string()), spec, "{line} -> {spec}");
        }
        assert_eq!(ok("0.0.0.0/0 dev eth0").to_string(), "default dev eth0");
        assert_eq!(ok("192.0.2.7/32 dev eth0").to_string(), "192.0.2.7 dev eth0");
        assert_eq!(ok("10.0.0.0/8 via 172.17.0.1 table 254").to_string(), "10.0.0.0/8 via 172.17.0.1 table main");
    }

    #[test]
    fn fields_land_where_they_belong() {
        let spec = ok("203.0.113.0/24 via 198.51.100.1 dev v0 metric 5 table 1000 src 198.51.100.2 mtu 1400 onlink");
        assert_eq!(spec.family, Family::V4);
        assert_eq!(spec.dest, "203.0.113.0".parse::<IpAddr>().unwrap());
        assert_eq!(spec.prefix_len, 24);
        assert_eq!(spec.via, Some("198.51.100.1".parse().unwrap()));
        assert_eq!(spec.dev.as_deref(), Some("v0"));
        assert_eq!((spec.metric, spec.table, spec.mtu, spec.onlink), (Some(5), Some(1000), Some(1400), true));
        assert_eq!(spec.src, Some("198.51.100.2".parse().unwrap()));
        assert_eq!(ok("192.0.2.1 dev v0").prefix_len, 32);
        assert_eq!(ok("2001:db8::1 dev v0").prefix_len, 128);
        assert_eq!(ok("10.0.0.0/8 dev v0 metric 4294967295").metric, Some(u32::MAX));
        assert_eq!(ok("10.0.0.0/8 dev v0 table local").table, Some(255));
        assert_eq!(ok("10.0.0.0/8 dev v0 table default").table, Some(253));
    }

    #[test]
    fn the_family_of_default_comes_from_the_gateway_then_the_flag() {
        assert_eq!(ok("default dev eth0").family, Family::V4);
        assert_eq!(ok("-6 default dev eth0").family, Family::V6);
        assert_eq!(ok("default via 2001:db8::1").family, Family::V6);
        assert_eq!(ok("default dev eth0 src 2001:db8::2").family, Family::V6);
        assert_eq!(ok("-4 default via 192.0.2.1").family, Family::V4);
        assert!(refused("-4 default via 2001:db8::1").contains("-4"));
        assert!(refused("-6 10.0.0.0/8 dev eth0").contains("-6"));
    }

    #[test]
    fn deleting_needs_only_the_destination() {
        let spec = RouteSpec::parse_selector(&["10.0.0.0/8"], None).unwrap();
        assert_eq!(spec.to_string(), "10.0.0.0/8");
        assert!(RouteSpec::parse(&["10.0.0.0/8"], None).is_err());
    }

    #[test]
    fn bad_specs_are_refused_by_name() {
        for (line, needle) in [
            ("", "missing destination"),
            ("10.0.0.1/8 via 172.17.0.1", "did you mean 10.0.0.0/8"),
            ("2001:db8::1/32 dev eth0", "did you mean 2001:db8::/32"),
            ("10.0.0.0/8", "neither"),
            ("10.0.0.0/33 dev eth0", "0 to 32"),
            ("2001:db8::/129 dev eth0", "0 to 128"),
            ("10.0.0.0/ dev eth0", "prefix length"),
            ("10.0.0.0/08 dev eth0", "prefix length"),
            ("10.0.0.0/8x dev eth0", "prefix length"),
            ("10.0.0.256/32 dev eth0", "\"10.0.0.256/32\""),
            ("010.0.0.0/8 dev eth0", "\"010.0.0.0/8\""),
            ("fe80::1%eth0 dev eth0", "fe80::1%eth0"),
            ("10.0.0.0/8 via 2001:db8::1", "IPv6, but destination 10.0.0.0/8 is IPv4"),
            ("2001:db8::/32 via 192.0.2.1", "IPv4, but destination"),
            ("10.0.0.0/8 dev eth0 src 2001:db8::1", "src 2001:db8::1 is IPv6"),
            ("10.0.0.0/8 via 172.17.0.1 via 172.17.0.2", "via given twice"),
            ("10.0.0.0/8 dev eth0 onlink onlink", "onlink given twice"),
            ("10.0.0.0/8 via", "via needs a value"),
            ("10.0.0.0/8 via 172.17.0.1 metric", "metric needs a value"),
            ("10.0.0.0/8 via 172.17.0.1 metric -1", "metric \"-1\""),
            ("10.0.0.0/8 via 172.17.0.1 metric +5", "metric \"+5\""),
            ("10.0.0.0/8 via 172.17.0.1 metric 4294967296", "4294967296"),
            ("10.0.0.0/8 via 172.17.0.1 metric 0x10", "0x10"),
            ("10.0.0.0/8 via 172.17.0.1 metric 010", "010"),
            ("10.0.0.0/8 via 172.17.0.1 table 0", "table \"0\""),
            ("10.0.0.0/8 via 172.17.0.1 table all", "table \"all\""),
            ("10.0.0.0/8 via 172.17.0.1 mtu 67", "mtu \"67\""),
            ("10.0.0.0/8 via 172.17.0.1 mtu 65536", "mtu \"65536\""),
            ("2001:db8::/32 via 2001:db8::1 mtu 1279", "1280"),
            ("10.0.0.0/8 via 172.17.0.1 frobnicate 3", "\"frobnicate\""),
            ("10.0.0.0/8 via 172.17.0.1 trailing", "\"trailing\""),
            ("10.0.0.0/8 via 0.0.0.0", "via 0.0.0.0"),
            ("10.0.0.0/8 via 224.0.0.1", "via 224.0.0.1"),
            ("10.0.0.0/8 dev eth0 src 255.255.255.255", "src 255.255.255.255"),
            ("10.0.0.0/8 dev abcdefghijklmnop", "abcdefghijklmnop"),
            ("10.0.0.0/8 dev a/b", "a/b"),
            ("10.0.0.0/8 dev ..", "\"..\""),
            ("10.0.0.0/8 via 172.17.0.1 onlink", "onlink needs"),
            ("2001:db8::/32 via fe80::1", "link-local"),
            ("-6 default", "neither"),
        ] {
            let message = refused(line);
            assert!(message.contains(needle), "{line:?}: {message:?} lacks {needle:?}");
            assert!(!message.contains('\n'), "{line:?}: one line");
        }
    }

    #[test]
    fn empty_values_are_refused_in_word_form() {
        let err = RouteSpec::parse(&["10.0.0.0/8", "dev", ""], None).unwrap_err();
        assert!(err.message().contains("dev needs a value"), "{err}");
        let err = RouteSpec::parse(&["", "dev", "eth0"], None).unwrap_err();
        assert!(err.message().contains("destination \"\""), "{err}");
    }

    #[test]
    fn tables_read_and_print_as_ip_does() {
        assert_eq!(parse_table("main").unwrap(), 254);
        assert_eq!(parse_table("4294967295").unwrap(), u32::MAX);
        assert!(parse_table("").is_err());
        assert_eq!(table_name(255), "local");
        assert_eq!(table_name(1000), "1000");
    }
}
