//! Pure parsers for the /proc files inspect reads. No syscalls, so each can
//! be tested against captured text and fuzzed; every one takes whatever
//! bytes the kernel (or a fuzzer) gives and skips what it does not
//! understand rather than failing: a field it cannot read is shown absent.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `/proc/PID/status`: `Key:\tvalue` lines, kept in order.
pub struct Status<'a> {
    fields: Vec<(&'a str, &'a str)>,
}

impl<'a> Status<'a> {
    pub fn parse(text: &'a str) -> Status<'a> {
        let fields = text.lines().filter_map(|line| line.split_once(':')).map(|(k, v)| (k, v.trim())).collect();
        Status { fields }
    }

    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.fields.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    pub fn number(&self, key: &str) -> Option<u64> {
        self.get(key)?.parse().ok()
    }

    /// A hex mask (`CapEff`, `SigBlk`): exactly 16 hex digits or fewer.
    pub fn mask(&self, key: &str) -> Option<u64> {
        let text = self.get(key)?;
        (!text.is_empty() && text.len() <= 16).then(|| u64::from_str_radix(text, 16).ok()).flatten()
    }

    /// `Uid:`/`Gid:`: real, effective, saved and filesystem ids.
    pub fn ids(&self, key: &str) -> Option<[u32; 4]> {
        let mut ids = [0u32; 4];
        let mut words = self.get(key)?.split_whitespace();
        for id in ids.iter_mut() {
            *id = words.next()?.parse().ok()?;
        }
        words.next().is_none().then_some(ids)
    }

    /// `Groups:`, in the kernel's (sorted) order; None when a word is not a number.
    pub fn groups(&self) -> Option<Vec<u32>> {
        self.get("Groups")?.split_whitespace().map(|g| g.parse().ok()).collect()
    }
}

/// One line of `/proc/PID/mountinfo` (proc(5)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub point: String,
    pub fstype: String,
    pub source: String,
    /// The per-mount options (`rw,nosuid,relatime`).
    pub options: String,
    /// The superblock's options: a file system mounted read-only shows `ro` here.
    pub super_options: String,
}

impl Mount {
    pub fn has(&self, option: &str) -> bool {
        self.options.split(',').any(|o| o == option)
    }

    pub fn read_only(&self) -> bool {
        self.has("ro") || self.super_options.split(',').any(|o| o == "ro")
    }
}

pub fn mountinfo(text: &str) -> Vec<Mount> {
    text.lines().filter_map(mount_line).collect()
}

fn mount_line(line: &str) -> Option<Mount> {
    let mut words = line.split(' ');
    let point = words.nth(4)?;
    let options = words.next()?;
    // Optional fields (shared:N, master:N) until the lone `-`.
    words.find(|w| *w == "-")?;
    let fstype = words.next()?;
    let source = words.next()?;
    let super_options = words.next().unwrap_or("");
    Some(Mount {
        point: unescape(point),
        fstype: unescape(fstype),
        source: unescape(source),
        options: options.to_string(),
        super_options: super_options.to_string(),
    })
}

/// mountinfo writes space, tab, newline and backslash as `\ooo`.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match (bytes[i], octal) {
            (b'\\', Some(d)) => {
                let value = u32::from(d[0] - b'0') * 64 + u32::from(d[1] - b'0') * 8 + u32::from(d[2] - b'0');
                out.push(value as u8);
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One socket of `/proc/PID/net/{tcp,udp}{,6}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Socket {
    pub local: IpAddr,
    pub port: u16,
    pub remote: IpAddr,
    pub remote_port: u16,
    /// The TCP state number (10 is LISTEN; 7 is CLOSE, an unconnected UDP socket).
    pub state: u8,
    pub uid: u32,
    pub inode: u64,
}

pub const TCP_LISTEN: u8 = 0x0a;
pub const UDP_UNCONNECTED: u8 = 0x07;

/// The table of one protocol: the header line is skipped, as is any line
/// that does not parse.
pub fn sockets(text: &str) -> Vec<Socket> {
    text.lines().skip(1).filter_map(socket_line).collect()
}

fn socket_line(line: &str) -> Option<Socket> {
    let mut words = line.split_whitespace().skip(1);
    let (local, port) = endpoint(words.next()?)?;
    let (remote, remote_port) = endpoint(words.next()?)?;
    let state = u8::from_str_radix(words.next()?, 16).ok()?;
    let mut rest = words.skip(3);
    let uid = rest.next()?.parse().ok()?;
    let inode = rest.nth(1)?.parse().ok()?;
    Some(Socket { local, port, remote, remote_port, state, uid, inode })
}

/// `0100007F:1F90`: the address as the kernel's words in host order, then the port.
fn endpoint(text: &str) -> Option<(IpAddr, u16)> {
    let (addr, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    Some((host_order_address(addr)?, port))
}

/// An address written as 32-bit words in host byte order (net/tcp, net/route).
fn host_order_address(hex: &str) -> Option<IpAddr> {
    if !hex.is_ascii() {
        return None;
    }
    let word = |i: usize| u32::from_str_radix(hex.get(i * 8..i * 8 + 8)?, 16).ok().map(|w| w.to_ne_bytes());
    match hex.len() {
        8 => Some(IpAddr::V4(Ipv4Addr::from(word(0)?))),
        32 => {
            let mut bytes = [0u8; 16];
            for i in 0..4 {
                bytes[i * 4..i * 4 + 4].copy_from_slice(&word(i)?);
            }
            Some(IpAddr::V6(Ipv6Addr::from(bytes)))
        }
        _ => None,
    }
}

/// An address written as 32 hex digits in network order (ipv6_route, if_inet6).
fn network_order_v6(hex: &str) -> Option<Ipv6Addr> {
    if hex.len() != 32 || !hex.is_ascii() {
        return None;
    }
    let mut bytes = [0u8; 16];
    for i in 0..4 {
        let word = u32::from_str_radix(&hex[i * 8..i * 8 + 8], 16).ok()?;
        bytes[i * 4..i * 4 + 4].copy_from_slice(&word.to_be_bytes());
    }
    Some(Ipv6Addr::from(bytes))
}

/// One rlimit of `/proc/PID/limits`; None is unlimited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    /// prlimit(1)'s name: `nofile`, `nproc`...
    pub resource: String,
    pub soft: Option<u64>,
    pub hard: Option<u64>,
    pub units: String,
}

const LIMIT_NAMES: [(&str, &str); 16] = [
    ("Max cpu time", "cpu"),
    ("Max file size", "fsize"),
    ("Max data size", "data"),
    ("Max stack size", "stack"),
    ("Max core file size", "core"),
    ("Max resident set", "rss"),
    ("Max processes", "nproc"),
    ("Max open files", "nofile"),
    ("Max locked memory", "memlock"),
    ("Max address space", "as"),
    ("Max file locks", "locks"),
    ("Max pending signals", "sigpending"),
    ("Max msgqueue size", "msgqueue"),
    ("Max nice priority", "nice"),
    ("Max realtime priority", "rtprio"),
    ("Max realtime timeout", "rttime"),
];

pub fn limits(text: &str) -> Vec<Limit> {
    text.lines().skip(1).filter_map(limit_line).collect()
}

fn limit_line(line: &str) -> Option<Limit> {
    let value = |w: &str| w == "unlimited" || (!w.is_empty() && w.bytes().all(|b| b.is_ascii_digit()));
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words.iter().position(|w| value(w))?;
    let name = words[..at].join(" ");
    let resource = match LIMIT_NAMES.iter().find(|(long, _)| *long == name) {
        Some((_, short)) => short.to_string(),
        None => name.to_ascii_lowercase(),
    };
    let number = |w: &str| if w == "unlimited" { Some(None) } else { w.parse().ok().map(Some) };
    let soft = number(words.get(at)?)?;
    let hard = number(words.get(at + 1)?)?;
    let units = words.get(at + 2..).unwrap_or_default().join(" ");
    Some(Limit { resource, soft, hard, units })
}

/// One route of the main table, from `net/route` or `net/ipv6_route`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub dest: IpAddr,
    pub prefix_len: u8,
    pub via: Option<IpAddr>,
    pub dev: String,
    pub metric: u32,
}

const RTF_GATEWAY: u32 = 0x2;
const RTF_REJECT: u32 = 0x200;
/// ipv6_route lists the local table too (its routes carry RTF_LOCAL or
/// RTF_ANYCAST, or are multicast), and cached clones; `ip route` shows none.
const RTF_ANYCAST: u32 = 0x0010_0000;
const RTF_CACHE: u32 = 0x0100_0000;
const RTF_LOCAL: u32 = 0x8000_0000;

impl std::fmt::Display for Route {
    /// route-add --list's words (those of `ip route`): `default via GW dev
    /// IFACE`, `PREFIX dev IFACE scope link`, then `metric N` when not 0.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.prefix_len {
            0 => f.write_str("default")?,
            len if len == full_length(&self.dest) => write!(f, "{}", self.dest)?,
            len => write!(f, "{}/{len}", self.dest)?,
        }
        if let Some(via) = self.via {
            write!(f, " via {via}")?;
        }
        write!(f, " dev {}", self.dev)?;
        if self.via.is_none() && self.dest.is_ipv4() {
            f.write_str(" scope link")?;
        }
        if self.metric != 0 {
            write!(f, " metric {}", self.metric)?;
        }
        Ok(())
    }
}

fn full_length(addr: &IpAddr) -> u8 {
    if addr.is_ipv4() {
        32
    } else {
        128
    }
}

/// `net/route`: the IPv4 main table.
pub fn routes_v4(text: &str) -> Vec<Route> {
    text.lines().skip(1).filter_map(route_v4_line).collect()
}

fn route_v4_line(line: &str) -> Option<Route> {
    let w: Vec<&str> = line.split_whitespace().collect();
    let flags = u32::from_str_radix(w.get(3)?, 16).ok()?;
    let dest = host_order_address(w.get(1)?)?;
    let gateway = host_order_address(w.get(2)?)?;
    let mask = match host_order_address(w.get(7)?)? {
        IpAddr::V4(mask) => u32::from(mask),
        IpAddr::V6(_) => return None,
    };
    if flags & RTF_REJECT != 0 {
        return None;
    }
    Some(Route {
        dest,
        prefix_len: mask.leading_ones() as u8,
        via: (flags & RTF_GATEWAY != 0).then_some(gateway),
        dev: w.first()?.to_string(),
        metric: w.get(6)?.parse().ok()?,
    })
}

/// `net/ipv6_route`: the IPv6 routes `ip -6 route` shows in the main table.
pub fn routes_v6(text: &str) -> Vec<Route> {
    text.lines().filter_map(route_v6_line).collect()
}

fn route_v6_line(line: &str) -> Option<Route> {
    let w: Vec<&str> = line.split_whitespace().collect();
    let flags = u32::from_str_radix(w.get(8)?, 16).ok()?;
    let dev = *w.get(9)?;
    if flags & (RTF_ANYCAST | RTF_CACHE | RTF_LOCAL | RTF_REJECT) != 0 {
        return None;
    }
    let dest = network_order_v6(w.first()?)?;
    if dest.segments()[0] & 0xff00 == 0xff00 {
        return None;
    }
    let gateway = network_order_v6(w.get(4)?)?;
    Some(Route {
        dest: IpAddr::V6(dest),
        prefix_len: u8::from_str_radix(w.get(1)?, 16).ok().filter(|&len| len <= 128)?,
        via: (flags & RTF_GATEWAY != 0).then_some(IpAddr::V6(gateway)),
        dev: dev.to_string(),
        metric: u32::from_str_radix(w.get(5)?, 16).ok()?,
    })
}

/// One address of an interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub dev: String,
    pub addr: IpAddr,
    pub prefix_len: Option<u8>,
}

/// `net/if_inet6`: address, index, prefix length, scope, flags, name.
pub fn addresses_v6(text: &str) -> Vec<Address> {
    text.lines()
        .filter_map(|line| {
            let w: Vec<&str> = line.split_whitespace().collect();
            Some(Address {
                dev: w.get(5)?.to_string(),
                addr: IpAddr::V6(network_order_v6(w.first()?)?),
                prefix_len: Some(u8::from_str_radix(w.get(2)?, 16).ok()?),
            })
        })
        .collect()
}

/// `net/fib_trie`: the local addresses (`/32 host LOCAL` leaves), each
/// once, with the interface of the main-table route that holds it (lo for
/// 127/8, which has none). No file under /proc/PID/net names the interface
/// of an IPv4 address.
pub fn addresses_v4(fib_trie: &str, routes: &[Route]) -> Vec<Address> {
    let mut found: Vec<Address> = Vec::new();
    let mut last: Option<Ipv4Addr> = None;
    for line in fib_trie.lines() {
        let line = line.trim_start();
        if let Some(leaf) = line.strip_prefix("|-- ") {
            last = leaf.trim().parse().ok();
        } else if line.starts_with("/32 host LOCAL") {
            let Some(addr) = last.take() else { continue };
            if found.iter().any(|a| a.addr == IpAddr::V4(addr)) {
                continue;
            }
            let holder = routes
                .iter()
                .filter(|r| r.via.is_none())
                .filter_map(|r| match r.dest {
                    IpAddr::V4(net) if contains(net, r.prefix_len, addr) => Some((r.prefix_len, r)),
                    _ => None,
                })
                .max_by_key(|(len, _)| *len);
            let (dev, prefix_len) = match holder {
                Some((len, route)) => (route.dev.clone(), Some(len)),
                None if addr.is_loopback() => ("lo".to_string(), Some(8)),
                None => ("?".to_string(), None),
            };
            found.push(Address { dev, addr: IpAddr::V4(addr), prefix_len });
        }
    }
    found
}

fn contains(net: Ipv4Addr, len: u8, addr: Ipv4Addr) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(len.min(32))).unwrap_or(0);
    u32::from(net) & mask == u32::from(addr) & mask
}

/// `/etc/passwd` or `/etc/group`: the name of an id (the third field).
pub fn account_name(file: &str, id: u32) -> Option<String> {
    file.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)?.parse::<u32>().ok()? == id && !name.is_empty()).then(|| name.to_string())
    })
}

/// `/proc/PID/stat`: (starttime in clock ticks after boot). The command
/// name, in parentheses, may hold anything, so fields count from the last `)`.
pub fn stat_start(text: &str) -> Option<u64> {
    let (_, rest) = text.rsplit_once(')')?;
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// The signal names, by number minus one (signal(7)); the real-time ones
/// (32 and up) go by number, since libcs disagree on where SIGRTMIN is.
const SIGNALS: [&str; 31] = [
    "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM",
    "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO",
    "PWR", "SYS",
];

/// The signals of a status mask, bit N-1 for signal N.
pub fn signal_names(mask: u64) -> Vec<String> {
    (0..64u32)
        .filter(|bit| mask & (1 << bit) != 0)
        .map(|bit| match SIGNALS.get(bit as usize) {
            Some(name) => format!("SIG{name}"),
            None => format!("SIG{}", bit + 1),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_fields_ids_and_masks() {
        let text = "Name:\tpy\nUmask:\t0027\nUid:\t1000\t1001\t1002\t1003\nGroups:\t4 20 \nCapEff:\t0000000000000400\n";
        let s = Status::parse(text);
        assert_eq!(s.get("Umask"), Some("0027"));
        assert_eq!(s.ids("Uid"), Some([1000, 1001, 1002, 1003]));
        assert_eq!(s.groups(), Some(vec![4, 20]));
        assert_eq!(s.mask("CapEff"), Some(0x400));
        assert_eq!(s.ids("Gid"), None);
        assert_eq!(Status::parse("Uid:\t1 2 3\n").ids("Uid"), None);
        assert_eq!(Status::parse("CapEff:\t00000000000000000\n").mask("CapEff"), None);
    }

    #[test]
    fn mountinfo_lines_with_optional_fields_and_escapes() {
        let text = "36 35 98:0 /mnt1 /mnt/my\\040dir rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n\
                    37 35 0:5 / /ro ro,nosuid shared:2 shared:3 - tmpfs none rw\nbroken line\n";
        let mounts = mountinfo(text);
        assert_eq!(mounts.len(), 2);
        assert_eq!(mounts[0].point, "/mnt/my dir");
        assert_eq!((mounts[0].fstype.as_str(), mounts[0].source.as_str()), ("ext3", "/dev/root"));
        assert!(!mounts[0].read_only());
        assert!(mounts[1].read_only() && mounts[1].has("nosuid"));
    }

    #[test]
    fn sockets_v4_and_v6() {
        let v4 = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
                  0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0 100 0 0 10 0\n";
        let s = sockets(v4);
        assert_eq!(s.len(), 1);
        assert_eq!(
            (s[0].local, s[0].port, s[0].state, s[0].uid, s[0].inode),
            ("127.0.0.1".parse().unwrap(), 8080, TCP_LISTEN, 1000, 4242)
        );
        let v6 = "header\n 0: 00000000000000000000000001000000:0035 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 77 2 0 0\n";
        let s = sockets(v6);
        assert_eq!((s[0].local, s[0].port, s[0].state), ("::1".parse().unwrap(), 53, UDP_UNCONNECTED));
    }

    #[test]
    fn limits_named_as_prlimit_does() {
        let text = "Limit                     Soft Limit           Hard Limit           Units     \n\
                    Max open files            1024                 4096                 files     \n\
                    Max nice priority         0                    0                    \n\
                    Max cpu time              unlimited            unlimited            seconds   \n";
        let l = limits(text);
        assert_eq!(
            l[0],
            Limit { resource: "nofile".into(), soft: Some(1024), hard: Some(4096), units: "files".into() }
        );
        assert_eq!(l[1].units, "");
        assert_eq!((l[2].resource.as_str(), l[2].soft, l[2].hard), ("cpu", None, None));
    }

    #[test]
    fn routes_in_route_add_words() {
        let v4 = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
                  eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
                  eth0\t000200C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n";
        let text: Vec<String> = routes_v4(v4).iter().map(Route::to_string).collect();
        assert_eq!(text, ["default via 192.0.2.1 dev eth0", "192.0.2.0/24 dev eth0 scope link metric 100"]);
        let v6 = "20010db8000000000000000000000000 20 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001 eth0\n\
                  00000000000000000000000000000000 00 00000000000000000000000000000000 00 20010db8000000000000000000000001 00000400 00000002 00000000 00000003 eth0\n\
                  00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000002 00000000 80200001 lo\n";
        let text: Vec<String> = routes_v6(v6).iter().map(Route::to_string).collect();
        assert_eq!(text, ["2001:db8::/32 dev eth0 metric 256", "default via 2001:db8::1 dev eth0 metric 1024"]);
    }

    #[test]
    fn addresses_from_the_trie_and_if_inet6() {
        let trie = "Main:\n  +-- 0.0.0.0/0 3 0 5\n     |-- 127.0.0.1\n        /32 host LOCAL\n     |-- 192.0.2.2\n        /32 host LOCAL\n\
                    Local:\n     |-- 127.0.0.1\n        /32 host LOCAL\n     |-- 127.255.255.255\n        /32 link BROADCAST\n";
        let routes = routes_v4("h\neth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n");
        let found = addresses_v4(trie, &routes);
        assert_eq!(found.len(), 2);
        assert_eq!((found[0].dev.as_str(), found[0].prefix_len), ("lo", Some(8)));
        assert_eq!((found[1].dev.as_str(), found[1].prefix_len), ("eth0", Some(24)));
        let v6 = addresses_v6("00000000000000000000000000000001 01 80 10 80       lo\n");
        assert_eq!((v6[0].addr, v6[0].prefix_len), ("::1".parse().unwrap(), Some(128)));
    }

    #[test]
    fn accounts_stat_and_signals() {
        let passwd = "root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/:/sbin/nologin\n";
        assert_eq!(account_name(passwd, 65534).as_deref(), Some("nobody"));
        assert_eq!(account_name(passwd, 7), None);
        assert_eq!(stat_start("42 (a) b) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 777 9"), Some(777));
        assert_eq!(signal_names(1 << 14 | 1 << 1 | 1 << 33), ["SIGINT", "SIGTERM", "SIG34"]);
    }
}
