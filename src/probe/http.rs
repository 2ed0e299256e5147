//! One HTTP/1.1 exchange: the request, then the answer read only as far as
//! the check needs (the head, and the body only for `--expect`), with
//! httparse for the status line, the headers and the chunk sizes.
//!
//! `read_response` works on any reader, so the fuzz target and the unit
//! tests feed it bytes; the deadline lives in the reader it is given.

use std::io::{Read, Write};

use super::{contains, Fault, Options, BODY_LIMIT, HEADER_LIMIT};

/// The most headers an answer may have.
const MAX_HEADERS: usize = 100;
/// A chunk-size line (with its extensions) longer than this is refused.
const CHUNK_LINE_LIMIT: usize = 1024;

/// The request, with the given headers after ours; a given Host replaces ours.
pub fn request(options: &Options, authority: &str, path: &str) -> Vec<u8> {
    let method = if options.head { "HEAD" } else { "GET" };
    let mut text = format!("{method} {path} HTTP/1.1\r\n");
    if !options.headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("host")) {
        text.push_str(&format!("Host: {authority}\r\n"));
    }
    text.push_str(concat!("User-Agent: hardbox-probe/", env!("CARGO_PKG_VERSION"), "\r\nConnection: close\r\n"));
    for (name, value) in &options.headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text.into_bytes()
}

/// Sends the request and judges the answer.
pub fn exchange<S: Read + Write>(stream: &mut S, request: &[u8], options: &Options) -> Result<String, Fault> {
    stream.write_all(request).map_err(|e| Fault::io(&e, "the request could not be sent"))?;
    judge(stream, options)
}

/// Reads the answer and holds it against `--status` and `--expect`.
pub fn judge<R: Read>(stream: &mut R, options: &Options) -> Result<String, Fault> {
    let response = read_response(stream, options.head, options.expect.as_deref().map(str::as_bytes))?;
    let seen = if response.reason.is_empty() {
        response.code.to_string()
    } else {
        // httparse lets a tab and obs-text through: neither may reach the log.
        let printable: String =
            response.reason.chars().map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' }).collect();
        format!("{} {printable}", response.code)
    };
    if !options.statuses.allows(response.code) {
        return Err(Fault::Seen(format!("{seen} (want {})", options.statuses)));
    }
    match (&options.expect, response.found) {
        (Some(expect), false) => {
            let limit = if response.body_read >= BODY_LIMIT { ", the most probe reads" } else { "" };
            Err(Fault::Seen(format!(
                "{seen}, but the body lacks {expect:?} (read {} bytes{limit})",
                response.body_read
            )))
        }
        _ => Ok(seen),
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct Response {
    pub code: u16,
    pub reason: String,
    /// `--expect`'s text was in the body (true when there is none to find).
    pub found: bool,
    pub body_read: usize,
}

/// Reads the head, and then, only when `expect` asks, the body as far as
/// the text (Content-Length, chunked, or up to the close), never more than
/// BODY_LIMIT bytes of it.
pub fn read_response<R: Read>(stream: &mut R, head_only: bool, expect: Option<&[u8]>) -> Result<Response, Fault> {
    let mut buf = Buffer { data: Vec::with_capacity(4096), pos: 0 };
    let (code, reason, framing, used) = loop {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut parsed = httparse::Response::new(&mut headers);
        match parsed.parse(&buf.data) {
            Ok(httparse::Status::Complete(used)) => {
                let code = parsed.code.unwrap_or(0);
                let reason = parsed.reason.unwrap_or("").to_owned();
                let framing = framing(parsed.headers)?;
                break (code, reason, framing, used);
            }
            Ok(httparse::Status::Partial) => {}
            Err(e) => return Err(Fault::Seen(format!("malformed answer: {}", parse_error(e)))),
        }
        if buf.data.len() >= HEADER_LIMIT {
            return Err(Fault::Seen("the headers are longer than 16 KiB".into()));
        }
        let got = buf.data.len();
        match buf.fill(stream, HEADER_LIMIT) {
            Ok(0) if got == 0 => return Err(Fault::Seen("connection closed without an answer".into())),
            Ok(0) => return Err(Fault::Seen(format!("connection closed after {got} bytes, within the headers"))),
            Ok(_) => {}
            Err(e) if got == 0 => return Err(Fault::io(&e, "no answer")),
            Err(e) => return Err(Fault::io(&e, "the headers did not end")),
        }
    };
    buf.pos = used;
    let Some(expect) = expect else {
        return Ok(Response { code, reason, found: true, body_read: 0 });
    };
    // No body follows a HEAD, a 1xx, a 204 or a 304, whatever the headers say.
    let framing = if head_only || code < 200 || code == 204 || code == 304 { Framing::Length(0) } else { framing };
    let mut body = Body { data: Vec::new(), expect, found: expect.is_empty() };
    match framing {
        Framing::Length(len) => read_exact_body(stream, &mut buf, &mut body, len)?,
        Framing::Close => read_exact_body(stream, &mut buf, &mut body, u64::MAX)?,
        Framing::Chunked => read_chunked(stream, &mut buf, &mut body)?,
    }
    Ok(Response { code, reason, found: body.found, body_read: body.data.len() })
}

fn parse_error(e: httparse::Error) -> &'static str {
    match e {
        httparse::Error::Status => "bad status line (want HTTP/1.x CODE REASON)",
        httparse::Error::Version => "bad HTTP version in the status line",
        httparse::Error::HeaderName => "bad header name",
        httparse::Error::HeaderValue => "bad header value",
        httparse::Error::NewLine => "bad line break",
        httparse::Error::Token => "bad token",
        httparse::Error::TooManyHeaders => "more than 100 headers",
    }
}

#[derive(Debug, Clone, Copy)]
enum Framing {
    Length(u64),
    Chunked,
    Close,
}

/// How the body ends. Chunked wins over Content-Length (RFC 9112 6.3);
/// Content-Lengths that disagree are refused, as request smuggling defences do.
fn framing(headers: &[httparse::Header<'_>]) -> Result<Framing, Fault> {
    let mut length = None;
    let mut chunked = false;
    for header in headers {
        if header.name.eq_ignore_ascii_case("transfer-encoding") {
            let last = header.value.rsplit(|&b| b == b',').next().unwrap_or(b"");
            chunked = last.trim_ascii().eq_ignore_ascii_case(b"chunked");
        } else if header.name.eq_ignore_ascii_case("content-length") {
            let text = std::str::from_utf8(header.value).ok().map(str::trim);
            let Some(n) = text.and_then(crate::cli::decimal::<u64>) else {
                return Err(Fault::Seen(format!(
                    "malformed answer: Content-Length {:?}",
                    String::from_utf8_lossy(header.value)
                )));
            };
            if length.is_some_and(|l| l != n) {
                return Err(Fault::Seen("malformed answer: Content-Lengths that disagree".into()));
            }
            length = Some(n);
        }
    }
    Ok(match (chunked, length) {
        (true, _) => Framing::Chunked,
        (false, Some(n)) => Framing::Length(n),
        (false, None) => Framing::Close,
    })
}

/// What has been read and not yet used.
struct Buffer {
    data: Vec<u8>,
    pos: usize,
}

impl Buffer {
    fn available(&self) -> &[u8] {
        &self.data[self.pos..]
    }

    /// Reads once more, keeping at most `cap` bytes in all; 0 is the close.
    fn fill<R: Read>(&mut self, stream: &mut R, cap: usize) -> std::io::Result<usize> {
        if self.pos > 0 {
            self.data.drain(..self.pos);
            self.pos = 0;
        }
        let old = self.data.len();
        let room = cap.saturating_sub(old).clamp(1, 8192);
        self.data.resize(old + room, 0);
        let result = loop {
            match stream.read(&mut self.data[old..]) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        self.data.truncate(old + *result.as_ref().unwrap_or(&0));
        result
    }
}

/// The body (or a tcp:// reply) as far as it was read, and whether
/// `expect` was in it.
pub(super) struct Body<'a> {
    pub(super) data: Vec<u8>,
    expect: &'a [u8],
    pub(super) found: bool,
}

impl<'a> Body<'a> {
    /// Nothing read yet: the empty text is found in the first bytes read.
    pub(super) fn new(expect: &'a [u8]) -> Self {
        Body { data: Vec::new(), expect, found: false }
    }

    /// Takes bytes; true when no more are wanted.
    pub(super) fn take(&mut self, bytes: &[u8]) -> bool {
        let from = self.data.len().saturating_sub(self.expect.len());
        let room = BODY_LIMIT - self.data.len();
        self.data.extend_from_slice(&bytes[..bytes.len().min(room)]);
        self.found = self.found || contains(&self.data[from..], self.expect);
        self.found || self.data.len() >= BODY_LIMIT
    }
}

fn body_fault(e: &std::io::Error) -> Fault {
    Fault::io(e, "the body did not come")
}

/// `len` bytes of body (u64::MAX: up to the close).
fn read_exact_body<R: Read>(stream: &mut R, buf: &mut Buffer, body: &mut Body, len: u64) -> Result<(), Fault> {
    let mut left = len;
    loop {
        let take = buf.available().len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let done = body.take(&buf.available()[..take]);
        buf.pos += take;
        left -= take as u64;
        if done || left == 0 {
            return Ok(());
        }
        match buf.fill(stream, 8192) {
            Ok(0) if len == u64::MAX => return Ok(()),
            Ok(0) => return Err(Fault::Seen(format!("connection closed {left} bytes before the end of the body"))),
            Ok(_) => {}
            Err(e) => return Err(body_fault(&e)),
        }
    }
}

fn read_chunked<R: Read>(stream: &mut R, buf: &mut Buffer, body: &mut Body) -> Result<(), Fault> {
    loop {
        let size = loop {
            match httparse::parse_chunk_size(buf.available()) {
                // The limit holds for a line found whole too, or where the
                // reads broke would decide whether it is refused.
                Ok(httparse::Status::Complete((used, size))) if used <= CHUNK_LINE_LIMIT => {
                    buf.pos += used;
                    break size;
                }
                Ok(httparse::Status::Partial) if buf.available().len() < CHUNK_LINE_LIMIT => {}
                Ok(_) | Err(_) => {
                    return Err(Fault::Seen("malformed answer: bad chunk size line".into()));
                }
            }
            match buf.fill(stream, CHUNK_LINE_LIMIT + 8192) {
                Ok(0) => return Err(Fault::Seen("connection closed within a chunked body".into())),
                Ok(_) => {}
                Err(e) => return Err(body_fault(&e)),
            }
        };
        if size == 0 {
            return Ok(());
        }
        read_exact_body(stream, buf, body, size)?;
        if body.found || body.data.len() >= BODY_LIMIT {
            return Ok(());
        }
        while buf.available().len() < 2 {
            match buf.fill(stream, 8192) {
                Ok(0) => return Err(Fault::Seen("connection closed within a chunked body".into())),
                Ok(_) => {}
                Err(e) => return Err(body_fault(&e)),
            }
        }
        if &buf.available()[..2] != b"\r\n" {
            return Err(Fault::Seen("malformed answer: a chunk does not end with CRLF".into()));
        }
        buf.pos += 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out its bytes `step` at a time, as a slow
    /// server would.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.data.len().min(self.step).min(out.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    fn read(bytes: &[u8], expect: Option<&str>) -> Result<Response, Fault> {
        let mut all = None;
        for step in [1, 3, 7, 4096] {
            let got = read_response(&mut Trickle { data: bytes, step }, false, expect.map(str::as_bytes));
            // How far the body was read depends on where the reads broke.
            let key = |r: &Result<Response, Fault>| {
                r.as_ref().map(|r| (r.code, r.reason.clone(), r.found)).map_err(Clone::clone)
            };
            if let Some(first) = &all {
                assert_eq!(key(first), key(&got), "step {step}");
            }
            all = Some(got);
        }
        all.unwrap()
    }

    #[test]
    fn heads_and_bodies() {
        let ok = read(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", Some("ell")).unwrap();
        assert_eq!((ok.code, ok.reason.as_str(), ok.found), (200, "OK", true));
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n";
        assert!(read(chunked, Some("cdef")).unwrap().found);
        let missing = read(chunked, Some("zz")).unwrap();
        assert_eq!((missing.found, missing.body_read), (false, 7));
        assert!(read(b"HTTP/1.0 200 OK\r\n\r\nup to the close", Some("close")).unwrap().found);
        let short = read(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc", Some("x")).unwrap_err();
        assert_eq!(short, Fault::Seen("connection closed 6 bytes before the end of the body".into()));
        // Past the Content-Length is not the body.
        assert!(!read(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nabcd", Some("cd")).unwrap().found);
        assert!(!read(b"HTTP/1.1 204 No Content\r\nContent-Length: 2\r\n\r\nab", Some("ab")).unwrap().found);
    }

    /// A chunked answer whose first chunk-size line is `len` bytes with its CRLF.
    fn chunk_line(len: usize) -> Vec<u8> {
        let mut bytes = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;x=".to_vec();
        bytes.resize(bytes.len() + len - 6, b'y');
        bytes.extend_from_slice(b"\r\nx\r\n0\r\n\r\n");
        bytes
    }

    #[test]
    fn a_chunk_line_of_the_limit_is_read_and_one_byte_more_is_not() {
        assert!(read(&chunk_line(CHUNK_LINE_LIMIT), Some("x")).unwrap().found);
    }

    #[test]
    fn malformed_answers_say_why() {
        for (bytes, why) in [
            (&b"garbage\r\n\r\n"[..], "version"),
            (b"HTTP/1.1 2000 OK\r\n\r\n", "status line"),
            (b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", "header name"),
            (b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", "Content-Length"),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "disagree"),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunk size"),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n", "CRLF"),
            (&chunk_line(CHUNK_LINE_LIMIT + 1), "chunk size"),
            (b"", "without an answer"),
            (b"HTTP/1.1 200 OK\r\n", "within the headers"),
        ] {
            match read(bytes, Some("x")) {
                Err(Fault::Seen(text)) => assert!(text.contains(why), "{bytes:?}: {text}"),
                other => panic!("{bytes:?}: {other:?}"),
            }
        }
        let mut huge = b"HTTP/1.1 200 OK\r\n".to_vec();
        huge.extend(std::iter::repeat(format!("X-Pad: {}\r\n", "a".repeat(400))).take(50).flat_map(String::into_bytes));
        assert_eq!(read(&huge, None), Err(Fault::Seen("the headers are longer than 16 KiB".into())));
    }

    #[test]
    fn the_body_is_read_no_further_than_needed() {
        let mut big = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
        big.extend(std::iter::repeat(b'a').take(200_000));
        let r = read(&big, Some("b")).unwrap();
        assert_eq!((r.found, r.body_read), (false, BODY_LIMIT));
        assert_eq!(read(&big, None).unwrap().body_read, 0);
    }

    #[test]
    fn the_request_carries_host_agent_close_and_the_headers() {
        let mut options = Options::new();
        options.headers = vec![("X-A".into(), "1".into())];
        let text = String::from_utf8(request(&options, "[::1]:81", "/h")).unwrap();
        assert!(text.starts_with("GET /h HTTP/1.1\r\nHost: [::1]:81\r\nUser-Agent: hardbox-probe/"), "{text}");
        assert!(text.ends_with("Connection: close\r\nX-A: 1\r\n\r\n"), "{text}");
        options.headers = vec![("host".into(), "app".into())];
        options.head = true;
        let text = String::from_utf8(request(&options, "x", "/")).unwrap();
        assert!(text.starts_with("HEAD / HTTP/1.1\r\nUser-Agent") && text.contains("host: app\r\n"), "{text}");
    }
}
