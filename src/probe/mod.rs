//! probe: is a target healthy? `http://`, `tcp://`, `unix://` and
//! `file://` targets, each checked within one deadline that bounds the
//! whole check (resolution aside, see `connect`), for a HEALTHCHECK, an exec
//! probe, or a start-up that must wait for a dependency.
//!
//! Parsing refuses bad usage (exit 125, nothing attempted); a check answers
//! with a `Fault`, which is the target's health, not an error of hardbox's.

pub mod http;

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant, SystemTime};

use crate::cli::describe_io;
use crate::error::{Error, Result};

/// How much of an answer is ever read: the body only as far as `--expect`
/// needs, and never more than this.
pub const BODY_LIMIT: usize = 64 * 1024;
/// The longest header block accepted.
pub const HEADER_LIMIT: usize = 16 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `http://HOST[:PORT]/PATH`.
    Http { host: Host, port: u16, path: String },
    /// `tcp://HOST:PORT`.
    Tcp { host: Host, port: u16 },
    /// `unix:///SOCKET`, or with `:/PATH` HTTP over it.
    Unix { socket: String, path: Option<String> },
    /// `file:///PATH`.
    File { path: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// An address literal: connected to without the resolver.
    Ip(IpAddr),
    /// A name, resolved through musl's resolver (/etc/hosts, resolv.conf).
    Name(String),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
            Host::Ip(ip) => write!(f, "{ip}"),
            Host::Name(name) => f.write_str(name),
        }
    }
}

/// Shown in messages; the parser already refused anything unprintable.
impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Http { host, port: 80, path } => write!(f, "http://{host}{path}"),
            Target::Http { host, port, path } => write!(f, "http://{host}:{port}{path}"),
            Target::Tcp { host, port } => write!(f, "tcp://{host}:{port}"),
            Target::Unix { socket, path: None } => write!(f, "unix://{socket}"),
            Target::Unix { socket, path: Some(path) } => write!(f, "unix://{socket}:{path}"),
            Target::File { path } => write!(f, "file://{path}"),
        }
    }
}

impl Target {
    /// Parses one TARGET. Errors quote it and say what a good one looks like.
    pub fn parse(text: &str) -> Result<Target> {
        Self::parse_inner(text).map_err(|why| Error::new(format!("target {text:?}: {why}")))
    }

    fn parse_inner(text: &str) -> std::result::Result<Target, String> {
        if let Some(at) = text.bytes().position(|b| b <= b' ' || b == 0x7f || !b.is_ascii()) {
            return Err(format!("byte {at} is a space, a control character or not ASCII (percent-encode it)"));
        }
        let Some((scheme, rest)) = text.split_once("://") else {
            return Err(
                "no scheme: write http://HOST:PORT/PATH, tcp://HOST:PORT, unix:///SOCKET or file:///PATH".into()
            );
        };
        match scheme {
            "http" => {
                let (authority, path) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
                let path = match path {
                    "" => "/".to_owned(),
                    p if p.starts_with('?') => format!("/{p}"),
                    p => p.to_owned(),
                };
                if path.contains('#') {
                    return Err("a fragment (#...) is never sent to a server: remove it".into());
                }
                let (host, port) = authority_of(authority, Some(80))?;
                Ok(Target::Http { host, port, path })
            }
            "tcp" => {
                let authority = rest.strip_suffix('/').unwrap_or(rest);
                if authority.contains('/') {
                    return Err("tcp:// takes no path: tcp://HOST:PORT".into());
                }
                let (host, port) = authority_of(authority, None)?;
                Ok(Target::Tcp { host, port })
            }
            "unix" => {
                let (socket, path) = match rest.find(":/") {
                    Some(at) => (&rest[..at], Some(&rest[at + 1..])),
                    None => (rest, None),
                };
                if !socket.starts_with('/') || socket.len() < 2 {
                    return Err("want an absolute socket path: unix:///run/app.sock[:/PATH]".into());
                }
                // sun_path holds 108 bytes with the NUL.
                if socket.len() > 107 {
                    return Err(format!("the socket path is {} bytes, longer than a socket address holds (107)", socket.len()));
                }
                if path.is_some_and(|p| p.contains('#')) {
                    return Err("a fragment (#...) is never sent to a server: remove it".into());
                }
                Ok(Target::Unix { socket: socket.to_owned(), path: path.map(str::to_owned) })
            }
            "file" => {
                if !rest.starts_with('/') || rest.len() < 2 {
                    return Err("want an absolute path: file:///run/ready".into());
                }
                Ok(Target::File { path: rest.to_owned() })
            }
            "https" => Err("hardbox carries no TLS stack: probe a plain-HTTP health port (http://127.0.0.1:PORT/...) or the TLS port with tcp://HOST:PORT".into()),
            other => Err(format!("unknown scheme {other:?}: want http, tcp, unix or file")),
        }
    }

    /// HTTP is spoken to it (as opposed to a connect, a file).
    pub fn is_http(&self) -> bool {
        matches!(self, Target::Http { .. } | Target::Unix { path: Some(_), .. })
    }

    /// A plain stream that `--send` can talk to.
    pub fn is_stream(&self) -> bool {
        matches!(self, Target::Tcp { .. } | Target::Unix { path: None, .. })
    }
}

/// `HOST[:PORT]`, `[V6][:PORT]`. The port is required unless a default is given.
fn authority_of(text: &str, default_port: Option<u16>) -> std::result::Result<(Host, u16), String> {
    if text.contains('@') {
        return Err("credentials in the URL are not sent: use --header 'Authorization: ...'".into());
    }
    let (host, port) = if let Some(inner) = text.strip_prefix('[') {
        let Some((v6, after)) = inner.split_once(']') else {
            return Err("an IPv6 address opened with [ is not closed with ]".into());
        };
        let ip: std::net::Ipv6Addr = v6.parse().map_err(|_| format!("{v6:?} is not an IPv6 address"))?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or_else(|| format!("{after:?} after ]: want :PORT"))?),
        };
        (Host::Ip(IpAddr::V6(ip)), port)
    } else {
        let (name, port) = match text.rsplit_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (text, None),
        };
        if name.is_empty() {
            return Err("no host".into());
        }
        if name.contains(':') {
            return Err("an IPv6 address goes in brackets: [::1]:8080".into());
        }
        let host = match name.parse::<std::net::Ipv4Addr>() {
            Ok(ip) => Host::Ip(IpAddr::V4(ip)),
            Err(_) if valid_name(name) => Host::Name(name.to_owned()),
            Err(_) => return Err(format!("host {name:?} is neither an address nor a host name")),
        };
        (host, port)
    };
    let port = match (port, default_port) {
        (Some(p), _) => match crate::cli::decimal::<u16>(p) {
            Some(n) if n > 0 => n,
            _ => return Err(format!("port {p:?}: want a number from 1 to 65535")),
        },
        (None, Some(p)) => p,
        (None, None) => return Err("no port: tcp://HOST:PORT".into()),
    };
    Ok((host, port))
}

/// Letters, digits, `-`, `_` and dots between labels: what a resolver is
/// asked for, never anything that could be mistaken for an address.
fn valid_name(name: &str) -> bool {
    // A final dot (an absolute name, `db.`) is the resolver's to read.
    let name = name.strip_suffix('.').unwrap_or(name);
    name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        && !name.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

/// `--status`: codes and ranges, `200-399`, `200,204,300-399`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statuses {
    ranges: Vec<(u16, u16)>,
    text: String,
}

impl Default for Statuses {
    fn default() -> Self {
        Statuses { ranges: vec![(200, 399)], text: "200-399".into() }
    }
}

impl Statuses {
    pub fn parse(text: &str) -> Result<Statuses> {
        let bad = |why: &str| Error::new(format!("--status {text:?}: {why} (want codes and ranges, e.g. 200-299,301)"));
        let code = |t: &str| match crate::cli::decimal::<u16>(t) {
            Some(n) if (100..=999).contains(&n) && t.len() == 3 => Ok(n),
            _ => Err(bad(&format!("{t:?} is not a status code from 100 to 999"))),
        };
        let mut ranges = Vec::new();
        for part in text.split(',') {
            let (low, high) = match part.split_once('-') {
                Some((low, high)) => (code(low)?, code(high)?),
                None => (code(part)?, code(part)?),
            };
            if low > high {
                return Err(bad(&format!("{part:?} runs backwards")));
            }
            ranges.push((low, high));
        }
        Ok(Statuses { ranges, text: text.to_owned() })
    }

    pub fn allows(&self, code: u16) -> bool {
        self.ranges.iter().any(|&(low, high)| (low..=high).contains(&code))
    }
}

impl fmt::Display for Statuses {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A duration option: humantime's `500ms`, `2s`, `1m30s`, or a plain number
/// of seconds. Zero is refused: a check with no time cannot pass.
pub fn parse_duration(option: &str, text: &str) -> Result<Duration> {
    let parsed = match crate::cli::decimal::<u64>(text) {
        Some(secs) => Ok(Duration::from_secs(secs)),
        None => humantime::parse_duration(text).map_err(|e| e.to_string()),
    };
    match parsed {
        Ok(d) if d.is_zero() => Err(Error::new(format!("{option} {text:?}: must be more than 0"))),
        // Far beyond any use, and far inside what an Instant can add.
        Ok(d) if d > Duration::from_secs(366 * 24 * 3600) => {
            Err(Error::new(format!("{option} {text:?}: longer than a year")))
        }
        Ok(d) => Ok(d),
        Err(why) => Err(Error::new(format!("{option} {text:?}: {why} (e.g. 500ms, 2s, 1m)"))),
    }
}

/// `--header 'Name: value'`: a token, a colon, a value without line breaks.
pub fn parse_header(text: &str) -> Result<(String, String)> {
    let bad = |why: &str| Error::new(format!("--header {text:?}: {why} (want 'Name: value')"));
    let (name, value) = text.split_once(':').ok_or_else(|| bad("no colon"))?;
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(token) {
        return Err(bad(&format!("{name:?} is not a header name")));
    }
    let value = value.trim_matches([' ', '\t']);
    if value.bytes().any(|b| (b < b' ' && b != b'\t') || b == 0x7f) {
        return Err(bad("the value holds a control character"));
    }
    Ok((name.to_owned(), value.to_owned()))
}

/// What a check looks for, beyond the target itself.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub timeout: Duration,
    pub statuses: Statuses,
    pub headers: Vec<(String, String)>,
    pub head: bool,
    pub expect: Option<String>,
    pub send: Option<String>,
    pub max_age: Option<Duration>,
}

impl Options {
    pub fn new() -> Options {
        Options { timeout: DEFAULT_TIMEOUT, ..Default::default() }
    }
}

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);
pub const DEFAULT_EVERY: Duration = Duration::from_secs(1);

/// Why a target is unhealthy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The deadline came first; the text says what was still missing.
    Timeout(&'static str),
    /// Anything else: what was seen, and what was wanted.
    Seen(String),
}

impl Fault {
    fn seen(text: impl Into<String>) -> Fault {
        Fault::Seen(text.into())
    }

    /// A failed read or write: a timeout, or the errno's text. Out of line:
    /// `kind()` is a large errno table, and a dozen call sites use it.
    #[inline(never)]
    pub fn io(e: &io::Error, waiting_for: &'static str) -> Fault {
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Fault::Timeout(waiting_for),
            _ => Fault::Seen(describe_io(e)),
        }
    }
}

/// Checks one target within `deadline`. Err is the line to print (without
/// the applet's prefix): target, what was seen, time taken.
pub fn check(
    target: &Target,
    options: &Options,
    start: Instant,
    deadline: Instant,
) -> std::result::Result<String, String> {
    let outcome = check_inner(target, options, deadline);
    let taken = start.elapsed();
    // One format for every outcome: each format! costs code of its own.
    let (healthy, what, word, time) = match outcome {
        Ok(seen) => (true, seen, "after", taken),
        Err(Fault::Timeout(what)) => (false, what.to_owned(), "within", deadline.saturating_duration_since(start)),
        Err(Fault::Seen(what)) => (false, what, "after", taken),
    };
    let line = format!("{target}: {what} {word} {}", show(time));
    if healthy {
        Ok(line)
    } else {
        Err(line)
    }
}

fn check_inner(target: &Target, options: &Options, deadline: Instant) -> std::result::Result<String, Fault> {
    // Connect first, then one call each to talk and to exchange, whatever
    // the socket: a call per kind of target would be code per kind.
    let (stream, http) = match target {
        Target::File { path } => return check_file(path, options),
        Target::Tcp { host, port } => (Stream::Tcp(connect(host, *port, deadline)?), None),
        Target::Unix { socket, path } => {
            (Stream::Unix(connect_unix(socket)?), path.as_deref().map(|path| ("localhost".to_owned(), path)))
        }
        Target::Http { host, port, path } => {
            let stream = connect(host, *port, deadline)?;
            let authority = if *port == 80 { host.to_string() } else { format!("{host}:{port}") };
            (Stream::Tcp(stream), Some((authority, path.as_str())))
        }
    };
    let mut stream = Deadlined { stream, deadline };
    match http {
        None => talk(&mut stream, options),
        Some((authority, path)) => http::exchange(&mut stream, &http::request(options, &authority, path), options),
    }
}

fn check_file(path: &str, options: &Options) -> std::result::Result<String, Fault> {
    let meta = std::fs::metadata(path).map_err(|e| Fault::seen(describe_io(&e)))?;
    let mut seen = String::from("present");
    if let Some(max_age) = options.max_age {
        // A clock stepped back makes a fresh file look future-dated: fresh.
        let age = meta.modified().ok().map(|t| SystemTime::now().duration_since(t).unwrap_or_default());
        match age {
            Some(age) if age <= max_age => seen = format!("modified {} ago", show(age)),
            Some(age) => {
                return Err(Fault::seen(format!("modified {} ago (want within {})", show(age), show(max_age))))
            }
            None => return Err(Fault::seen("the file system keeps no modification time")),
        }
    }
    if let Some(expect) = &options.expect {
        let mut body = Vec::new();
        let file = std::fs::File::open(path).map_err(|e| Fault::seen(describe_io(&e)))?;
        file.take(BODY_LIMIT as u64).read_to_end(&mut body).map_err(|e| Fault::seen(describe_io(&e)))?;
        if !contains(&body, expect.as_bytes()) {
            return Err(Fault::seen(format!("does not contain {expect:?} (read {} bytes)", body.len())));
        }
    }
    Ok(seen)
}

/// `tcp://` and plain `unix://`: connected is healthy, unless `--send` or
/// `--expect` ask for more.
fn talk(stream: &mut Deadlined, options: &Options) -> std::result::Result<String, Fault> {
    if let Some(send) = &options.send {
        let line = format!("{send}\n");
        stream.write_all(line.as_bytes()).map_err(|e| Fault::io(&e, "could not send"))?;
    }
    let Some(expect) = &options.expect else {
        return Ok("connected".into());
    };
    let mut reply = http::Body::new(expect.as_bytes());
    let mut chunk = [0u8; 4096];
    loop {
        let n = match stream.read(&mut chunk) {
            Ok(n) => n,
            Err(e) if reply.data.is_empty() => return Err(Fault::io(&e, "no answer")),
            Err(e) => return Err(Fault::io(&e, "the expected text did not come")),
        };
        if n == 0 {
            return Err(Fault::seen(format!("closed without {expect:?} (read {} bytes)", reply.data.len())));
        }
        if reply.take(&chunk[..n]) {
            return match reply.found {
                true => Ok(format!("answered {expect:?}")),
                false => Err(Fault::seen(format!("no {expect:?} in the first 64 KiB"))),
            };
        }
    }
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// Connects to the first address of HOST that takes the connection, within
/// the deadline. A name goes through musl's getaddrinfo, which no deadline
/// can interrupt without a thread (and dhi-bootstrap waits before its
/// privilege drop, where hardbox runs no threads): the resolver's own
/// timeouts (resolv.conf, 5 s by default) bound it, and the connect gets
/// what time is left.
fn connect(host: &Host, port: u16, deadline: Instant) -> std::result::Result<TcpStream, Fault> {
    let addrs: Vec<SocketAddr> = match host {
        Host::Ip(ip) => vec![SocketAddr::new(*ip, port)],
        Host::Name(name) => match (name.as_str(), port).to_socket_addrs() {
            Ok(addrs) => addrs.collect(),
            Err(_) => return Err(Fault::seen(format!("{name} does not resolve"))),
        },
    };
    let mut last = Fault::seen("no address to connect to");
    for addr in addrs {
        let left = remaining(deadline).ok_or(Fault::Timeout("no connection"))?;
        match TcpStream::connect_timeout(&addr, left) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = Fault::io(&e, "no connection"),
        }
    }
    Err(last)
}

/// A unix socket connects at once or not at all (ECONNREFUSED, ENOENT),
/// except with a full backlog, which the deadline then does not bound.
fn connect_unix(path: &str) -> std::result::Result<UnixStream, Fault> {
    UnixStream::connect(path).map_err(|e| Fault::seen(describe_io(&e)))
}

/// The time left, None once the deadline has passed (a zero timeout would
/// mean "no timeout" to the socket).
fn remaining(deadline: Instant) -> Option<Duration> {
    deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero())
}

enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

/// A stream whose every read and write gets the time left before the
/// deadline as its timeout, so a trickle of one byte a second still ends there.
pub struct Deadlined {
    stream: Stream,
    deadline: Instant,
}

fn timed_out() -> io::Error {
    io::Error::from(io::ErrorKind::TimedOut)
}

impl Read for Deadlined {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = remaining(self.deadline).ok_or_else(timed_out)?;
        match &mut self.stream {
            Stream::Tcp(s) => {
                s.set_read_timeout(Some(left))?;
                s.read(buf)
            }
            Stream::Unix(s) => {
                s.set_read_timeout(Some(left))?;
                s.read(buf)
            }
        }
    }
}

impl Write for Deadlined {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let left = remaining(self.deadline).ok_or_else(timed_out)?;
        match &mut self.stream {
            Stream::Tcp(s) => {
                s.set_write_timeout(Some(left))?;
                s.write(buf)
            }
            Stream::Unix(s) => {
                s.set_write_timeout(Some(left))?;
                s.write(buf)
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The TARGETs, each expanded first with --expand-env (dhi-bootstrap's
/// rules).
pub fn parse_targets(texts: &[String], expand_env: bool) -> Result<Vec<Target>> {
    // Plain loops here and in check_all: a collect into Result is a
    // GenericShunt instantiation each, larger than the loop.
    let mut targets = Vec::with_capacity(texts.len());
    for text in texts {
        let text = if expand_env { crate::expand::expand(text, &crate::cli::env_var)? } else { text.clone() };
        targets.push(Target::parse(&text)?);
    }
    Ok(targets)
}

/// Checks every target in order, each within --timeout and never past
/// `until`; the first failure decides. Ok holds one line per target, for
/// HARDBOX_LOG=info.
pub fn check_all(
    targets: &[Target],
    options: &Options,
    until: Option<Instant>,
) -> std::result::Result<Vec<String>, String> {
    let mut lines = Vec::with_capacity(targets.len());
    for target in targets {
        let start = Instant::now();
        let deadline = start + options.timeout;
        lines.push(check(target, options, start, until.map_or(deadline, |until| deadline.min(until)))?);
    }
    Ok(lines)
}

/// Checks every `every` until all targets pass or `wait` has run out; Err
/// is the last failure's line. No attempt runs past the wait's end.
pub fn wait(
    targets: &[Target],
    options: &Options,
    wait: Duration,
    every: Duration,
) -> std::result::Result<Vec<String>, String> {
    let end = Instant::now() + wait;
    loop {
        let attempt = Instant::now();
        match check_all(targets, options, Some(end)) {
            Ok(lines) => return Ok(lines),
            Err(line) => {
                let next = attempt + every;
                if next >= end {
                    return Err(format!("{line} (gave up after {})", show(wait)));
                }
                std::thread::sleep(next.saturating_duration_since(Instant::now()));
            }
        }
    }
}

/// Durations as people read them: `4 ms`, `2 s`, `1.5 s`.
pub fn show(d: Duration) -> String {
    // u64 milliseconds: half a billion years, and no u128 formatting code.
    let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    if ms < 1000 {
        return format!("{ms} ms");
    }
    // Tenths of a second, rounded: a 2 s budget that began a microsecond
    // late still reads 2 s.
    let ms = ms.saturating_add(50) / 100 * 100;
    if ms % 1000 == 0 {
        format!("{} s", ms / 1000)
    } else {
        format!("{}.{} s", ms / 1000, ms % 1000 / 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_to_what_they_say() {
        let http = Target::parse("http://127.0.0.1:8080/healthz?x=1").unwrap();
        assert_eq!(
            http,
            Target::Http { host: Host::Ip("127.0.0.1".parse().unwrap()), port: 8080, path: "/healthz?x=1".into() }
        );
        assert_eq!(Target::parse("http://app").unwrap().to_string(), "http://app/");
        assert_eq!(Target::parse("http://[::1]:81").unwrap().to_string(), "http://[::1]:81/");
        assert_eq!(Target::parse("http://a?b").unwrap().to_string(), "http://a/?b");
        assert_eq!(Target::parse("tcp://db:5432").unwrap().to_string(), "tcp://db:5432");
        assert_eq!(Target::parse("tcp://db.:5432").unwrap().to_string(), "tcp://db.:5432");
        let unix = Target::parse("unix:///run/app.sock:/healthz").unwrap();
        assert_eq!(unix, Target::Unix { socket: "/run/app.sock".into(), path: Some("/healthz".into()) });
        assert_eq!(
            Target::parse("unix:///run/a.sock").unwrap(),
            Target::Unix { socket: "/run/a.sock".into(), path: None }
        );
        assert_eq!(Target::parse("file:///run/ready").unwrap(), Target::File { path: "/run/ready".into() });
    }

    #[test]
    fn bad_targets_are_refused_with_the_reason() {
        for (text, why) in [
            ("localhost:8080", "no scheme"),
            ("https://x/", "no TLS stack"),
            ("ftp://x/", "unknown scheme \"ftp\""),
            ("http://", "no host"),
            ("http://:80/", "no host"),
            ("http://x:0/", "port \"0\""),
            ("http://x:65536/", "port \"65536\""),
            ("http://x:+1/", "port \"+1\""),
            ("http://::1/", "brackets"),
            ("http://[::1/", "not closed"),
            ("http://[::g]/", "not an IPv6"),
            ("http://a b/", "space"),
            ("http://u:p@x/", "credentials"),
            ("http://x/#a", "fragment"),
            ("http://x..y/", "neither"),
            ("http://1.2.3/", "neither"),
            ("tcp://db", "no port"),
            ("tcp://db:1/x", "no path"),
            ("unix://run.sock", "absolute"),
            ("file://ready", "absolute"),
            ("http://caf\u{e9}/", "not ASCII"),
        ] {
            let e = Target::parse(text).unwrap_err();
            assert!(e.message().contains(why), "{text}: {e}");
            assert_eq!(e.status(), 125);
        }
    }

    #[test]
    fn statuses_and_durations() {
        let s = Statuses::parse("200,204,300-399").unwrap();
        assert!(s.allows(204) && s.allows(301) && !s.allows(203) && !s.allows(400));
        assert!(Statuses::default().allows(301) && !Statuses::default().allows(404));
        for bad in ["", "2xx", "399-200", "99", "1000", "200-", ",200", "0200"] {
            assert!(Statuses::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_duration("--timeout", "500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("--timeout", "3").unwrap(), Duration::from_secs(3));
        assert_eq!(parse_duration("--timeout", "1m30s").unwrap(), Duration::from_secs(90));
        for bad in ["", "0", "0s", "5x", "-1s", "10y", "1.5"] {
            assert!(parse_duration("--timeout", bad).is_err(), "{bad}");
        }
        assert_eq!(show(Duration::from_millis(4)), "4 ms");
        assert_eq!(show(Duration::from_secs(2)), "2 s");
        assert_eq!(show(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(show(Duration::from_millis(1999)), "2 s");
    }

    #[test]
    fn headers_need_a_name_and_a_colon() {
        assert_eq!(parse_header("X-A:  b c ").unwrap(), ("X-A".into(), "b c".into()));
        assert_eq!(parse_header("X-A:").unwrap(), ("X-A".into(), "".into()));
        for bad in ["X-A", ": v", "X A: v", "X-A: a\r\nEvil: 1", "X\n: v"] {
            assert!(parse_header(bad).is_err(), "{bad:?}");
        }
    }
}
