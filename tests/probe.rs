//! probe (issue 14): the built binary against real servers on loopback,
//! started by each test: a std TcpListener thread serving canned answers
//! (so a test can make a server that never answers or trickles), python3's
//! http.server as a real one, and curl and busybox wget as the oracles for
//! what healthy means.
//! Then dhi-bootstrap's --wait-for.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::net::UnixListener;
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::*;

fn probe(args: &[&str]) -> Output {
    let out = Command::new(applet("probe")).env_remove("HARDBOX_LOG").args(args).output().expect("run probe");
    let (stdout, stderr) = text(&out);
    // A body is never printed, and Docker's reserved 2 never answered.
    assert!(stdout.is_empty(), "probe {args:?} wrote to stdout: {stdout:?}");
    assert_ne!(out.status.code(), Some(2), "probe {args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    out
}

/// Healthy: exit 0 and not a word.
fn healthy(args: &[&str]) {
    let out = probe(args);
    assert_eq!(out.status.code(), Some(0), "probe {args:?}: {}", text(&out).1);
    assert!(out.stderr.is_empty(), "probe {args:?} is silent on success: {}", text(&out).1);
}

/// Unhealthy: exit 1 and one line; returns it.
fn unhealthy(args: &[&str]) -> String {
    let out = probe(args);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "probe {args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "probe {args:?}: one line: {stderr:?}");
    assert!(stderr.starts_with("probe: "), "{stderr}");
    stderr.trim_end().to_owned()
}

/// A server on `addr` that runs `answer` on every connection, each in its
/// own thread, with the request's head as it was read. It lives as long as
/// the test process: every test's listener has its own port.
fn serve_on(addr: &str, answer: fn(&mut TcpStream, &str)) -> SocketAddr {
    let listener = TcpListener::bind(addr).expect("bind the test server");
    let local = listener.local_addr().expect("local addr");
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || {
                let mut stream = stream;
                let head = read_head(&mut stream);
                answer(&mut stream, &head);
            });
        }
    });
    local
}

fn serve(answer: fn(&mut TcpStream, &str)) -> SocketAddr {
    serve_on("127.0.0.1:0", answer)
}

/// A server that reads nothing first: for line protocols and banners.
fn serve_raw(answer: fn(TcpStream)) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the test server");
    let local = listener.local_addr().expect("local addr");
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || answer(stream));
        }
    });
    local
}

fn read_head(stream: &mut impl Read) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 65536 {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// Answers by path: /NNN gives status NNN, the rest as named.
fn router(stream: &mut TcpStream, head: &str) {
    let path = head.split(' ').nth(1).unwrap_or("/");
    let reply: Vec<u8> = match path {
        "/200" | "/" => b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec(),
        "/204" => b"HTTP/1.1 204 No Content\r\n\r\n".to_vec(),
        "/301" => b"HTTP/1.1 301 Moved Permanently\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n".to_vec(),
        "/404" => b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found".to_vec(),
        "/503" => b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\ndown".to_vec(),
        "/length" => b"HTTP/1.1 200 OK\r\nContent-Length: 21\r\n\r\n{\"status\":\"all good\"}".to_vec(),
        "/chunked" => {
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\n{\"statu\r\ne;ext=1\r\ns\":\"all good\"}\r\n0\r\n\r\n"
                .to_vec()
        }
        "/garbage" => b"HELLO there\r\n\r\n".to_vec(),
        "/badheader" => b"HTTP/1.1 200 OK\r\nNo Colon Here\r\n\r\n".to_vec(),
        "/hugeheaders" => {
            let mut r = b"HTTP/1.1 200 OK\r\n".to_vec();
            for i in 0..40 {
                r.extend(format!("X-Pad-{i}: {}\r\n", "a".repeat(500)).into_bytes());
            }
            r.extend(b"\r\n");
            r
        }
        // A big body that says what --expect wants only at its very end.
        "/bigbody" => {
            let mut r = b"HTTP/1.1 200 OK\r\nContent-Length: 200004\r\n\r\n".to_vec();
            r.extend(std::iter::repeat(b'a').take(200_000));
            r.extend(b"good");
            r
        }
        "/echo" => {
            // The head went out as the body: the test reads it back.
            format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{head}", head.len()).into_bytes()
        }
        _ => b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n".to_vec(),
    };
    let _ = stream.write_all(&reply);
}

fn url(addr: SocketAddr, path: &str) -> String {
    format!("http://{addr}{path}")
}

/// "after N ms" at the end of a line, with N read back.
fn millis_after(line: &str) -> u64 {
    let rest = line.rsplit_once(" after ").map(|(_, r)| r).unwrap_or_else(|| panic!("no 'after': {line}"));
    rest.strip_suffix(" ms").and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("not N ms: {line}"))
}

#[test]
fn statuses_decide_health_and_the_line_says_what_was_seen() {
    let addr = serve(router);
    for path in ["/200", "/204", "/301"] {
        healthy(&[&url(addr, path)]);
    }
    let line = unhealthy(&[&url(addr, "/503")]);
    let want = format!("probe: http://{addr}/503: 503 Service Unavailable (want 200-399) after ");
    assert!(line.starts_with(&want), "{line}");
    assert!(millis_after(&line) < 1000, "{line}");
    let line = unhealthy(&[&url(addr, "/404")]);
    assert!(line.contains(": 404 Not Found (want 200-399) after "), "{line}");
    // --status ranges, and redirects are not followed.
    healthy(&["--status", "200-299,404", &url(addr, "/404")]);
    healthy(&["--status", "301", &url(addr, "/301")]);
    let line = unhealthy(&["--status", "200,204", &url(addr, "/301")]);
    assert!(line.contains("301 Moved Permanently (want 200,204)"), "{line}");
    unhealthy(&["--status", "300-399", &url(addr, "/200")]);
    // HEAD asks for no body, and the status still decides.
    healthy(&["--method", "HEAD", &url(addr, "/200")]);
}

#[test]
fn bodies_are_read_as_far_as_expect_needs_and_never_printed() {
    let addr = serve(router);
    healthy(&["--expect", "all good", &url(addr, "/length")]);
    healthy(&["--expect", "all good", &url(addr, "/chunked")]);
    healthy(&["--expect", "\"statu", &url(addr, "/chunked")]);
    let line = unhealthy(&["--expect", "all bad", &url(addr, "/chunked")]);
    assert!(line.contains("200 OK, but the body lacks \"all bad\" (read 21 bytes)"), "{line}");
    let line = unhealthy(&["--expect", "all bad", &url(addr, "/length")]);
    assert!(line.contains("lacks \"all bad\" (read 21 bytes)"), "{line}");
    // Past 64 KiB probe stops reading, so text at the end is never found.
    let line = unhealthy(&["--expect", "good", &url(addr, "/bigbody")]);
    assert!(line.contains("(read 65536 bytes, the most probe reads)"), "{line}");
}

#[test]
fn the_request_carries_host_user_agent_close_and_the_given_headers() {
    let addr = serve(router);
    let version = env!("CARGO_PKG_VERSION");
    healthy(&["--expect", &format!("GET /echo HTTP/1.1\r\nHost: {addr}\r\n"), &url(addr, "/echo")]);
    healthy(&[
        "--expect",
        &format!("\r\nUser-Agent: hardbox-probe/{version}\r\nConnection: close\r\n"),
        &url(addr, "/echo"),
    ]);
    healthy(&["--header", "X-Probe: yes please", "--expect", "\r\nX-Probe: yes please\r\n\r\n", &url(addr, "/echo")]);
    // A Host header given replaces probe's own.
    let args = ["--header", "Host: app.example", "--expect", "Host: app.example\r\n", &url(addr, "/echo")];
    healthy(&args);
    unhealthy(&["--header", "Host: app.example", "--expect", &format!("Host: {addr}"), &url(addr, "/echo")]);
}

#[test]
fn malformed_and_oversized_answers_are_unhealthy_with_the_reason() {
    let addr = serve(router);
    let line = unhealthy(&[&url(addr, "/garbage")]);
    assert!(line.contains(": malformed answer: bad HTTP version in the status line after"), "{line}");
    let line = unhealthy(&[&url(addr, "/badheader")]);
    assert!(line.contains(": malformed answer: bad header name after"), "{line}");
    let line = unhealthy(&[&url(addr, "/hugeheaders")]);
    assert!(line.contains(": the headers are longer than 16 KiB after"), "{line}");
    // A server that closes at once.
    let closer = serve(|_, _| {});
    let line = unhealthy(&[&url(closer, "/")]);
    assert!(line.contains("connection closed without an answer"), "{line}");
}

#[test]
fn a_server_that_never_answers_fails_at_the_timeout() {
    // The connection stays open, silent, while the closure sleeps.
    let addr = serve(|_, _| thread::sleep(Duration::from_secs(10)));
    let start = Instant::now();
    let line = unhealthy(&["--timeout", "500ms", &url(addr, "/")]);
    let took = start.elapsed();
    assert_eq!(line, format!("probe: http://{addr}/: no answer within 500 ms"));
    assert!(took >= Duration::from_millis(500) && took < Duration::from_millis(700), "took {took:?}");
    // The default is 2 s.
    let start = Instant::now();
    let line = unhealthy(&["--expect", "hello", &format!("tcp://{addr}")]);
    let took = start.elapsed();
    assert!(line.ends_with(": no answer within 2 s"), "{line}");
    assert!(took >= Duration::from_secs(2) && took < Duration::from_millis(2200), "took {took:?}");
}

#[test]
fn a_trickling_server_fails_at_the_deadline_not_per_read() {
    let addr = serve(|stream, _| {
        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n" {
            if stream.write_all(&[*byte]).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(100));
        }
    });
    let start = Instant::now();
    let line = unhealthy(&["--timeout", "1s", &url(addr, "/")]);
    let took = start.elapsed();
    assert_eq!(line, format!("probe: http://{addr}/: the headers did not end within 1 s"));
    assert!(took >= Duration::from_secs(1) && took < Duration::from_millis(1200), "took {took:?}");
}

#[test]
fn a_refused_port_is_unhealthy_at_once() {
    let port = free_port();
    let start = Instant::now();
    let line = unhealthy(&[&format!("http://127.0.0.1:{port}/healthz")]);
    assert!(line.starts_with(&format!("probe: http://127.0.0.1:{port}/healthz: connection refused after ")), "{line}");
    assert!(start.elapsed() < Duration::from_millis(500));
    let line = unhealthy(&[&format!("tcp://127.0.0.1:{port}")]);
    assert!(line.starts_with(&format!("probe: tcp://127.0.0.1:{port}: connection refused after ")), "{line}");
}

/// A port nothing listens on (as long as nothing takes it meanwhile).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

#[test]
fn ipv6_loopback_and_names_from_etc_hosts() {
    let addr = serve_on("[::1]:0", router);
    healthy(&[&format!("http://[::1]:{}/200", addr.port())]);
    unhealthy(&[&format!("http://[::1]:{}/503", addr.port())]);
    healthy(&[&format!("tcp://[::1]:{}", addr.port())]);
    // localhost goes through musl's resolver and /etc/hosts.
    let v4 = serve(router);
    healthy(&[&format!("http://localhost:{}/200", v4.port())]);
    let line = unhealthy(&["http://no-such-host.invalid/"]);
    assert!(line.contains("no-such-host.invalid does not resolve"), "{line}");
}

#[test]
fn tcp_connects_and_talks_a_line() {
    let addr = serve_raw(|mut stream| {
        let mut line = String::new();
        let _ = BufReader::new(stream.try_clone().expect("clone")).read_line(&mut line);
        let _ = stream.write_all(if line == "PING\n" { b"+PONG\r\n" } else { b"-ERR what\r\n" });
    });
    healthy(&[&format!("tcp://{addr}")]);
    healthy(&["--send", "PING", "--expect", "PONG", &format!("tcp://{addr}")]);
    let line = unhealthy(&["--send", "PONG", "--expect", "PONG", &format!("tcp://{addr}")]);
    assert!(line.contains(": closed without \"PONG\" (read 11 bytes) after"), "{line}");
    // A banner, as SMTP or SSH servers send, with --expect alone.
    let banner_addr = serve_raw(|mut stream| {
        let _ = stream.write_all(b"SSH-2.0-test\r\n");
        thread::sleep(Duration::from_millis(300));
    });
    healthy(&["--expect", "SSH-2.0", &format!("tcp://{banner_addr}")]);
}

#[test]
fn unix_sockets_connect_and_speak_http() {
    let dir = TempDir::new("probe-unix");
    let path = dir.path().join("app.sock");
    let listener = UnixListener::bind(&path).expect("bind unix");
    thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let head = read_head(&mut stream);
            let reply: &[u8] = if head.starts_with("GET /healthz HTTP/1.1\r\nHost: localhost\r\n") {
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nready"
            } else {
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
            };
            let _ = stream.write_all(reply);
        }
    });
    let sock = path.display().to_string();
    healthy(&["--expect", "ready", &format!("unix://{sock}:/healthz")]);
    let line = unhealthy(&[&format!("unix://{sock}:/other")]);
    assert_eq!(
        line.rsplit_once(" after ").expect("after").0,
        format!("probe: unix://{sock}:/other: 404 Not Found (want 200-399)")
    );
    // Connect only: the listener takes it, sends nothing.
    let quiet = dir.path().join("quiet.sock");
    let _keep = UnixListener::bind(&quiet).expect("bind quiet");
    healthy(&[&format!("unix://{}", quiet.display())]);
    let line = unhealthy(&[&format!("unix://{}/missing.sock", dir.path().display())]);
    assert!(line.contains("missing.sock: no such file or directory after"), "{line}");
}

#[test]
fn files_exist_and_are_fresh_enough() {
    let dir = TempDir::new("probe-file");
    let ready = dir.path().join("ready");
    std::fs::write(&ready, "state=ready\n").expect("write");
    let target = format!("file://{}", ready.display());
    healthy(&[&target]);
    healthy(&["--max-age", "30s", &target]);
    healthy(&["--expect", "state=ready", &target]);
    unhealthy(&["--expect", "state=failed", &target]);
    let status = Command::new("touch").args(["-d", "2 minutes ago"]).arg(&ready).status().expect("touch");
    assert!(status.success());
    healthy(&[&target]);
    let line = unhealthy(&["--max-age", "1m", &target]);
    assert!(
        line.contains(": modified 120 s ago (want within 60 s) after") || line.contains(": modified 121 s ago"),
        "{line}"
    );
    let line = unhealthy(&[&format!("file://{}/gone", dir.path().display())]);
    assert!(line.contains("/gone: no such file or directory after"), "{line}");
}

#[test]
fn several_targets_all_must_pass_and_the_first_failure_decides() {
    let addr = serve(router);
    let dir = TempDir::new("probe-many");
    let missing = format!("file://{}/missing", dir.path().display());
    healthy(&[&url(addr, "/200"), &format!("tcp://{addr}"), &url(addr, "/204")]);
    let line = unhealthy(&[&url(addr, "/200"), &url(addr, "/503"), &missing]);
    assert!(line.contains("/503: 503"), "{line}");
    let line = unhealthy(&[&missing, &url(addr, "/503")]);
    assert!(line.contains("/missing: no such file"), "{line}");
    // Options come before the targets: from the first target on, every
    // word is a target (issue 16.1), so a late option is a bad target.
    healthy(&["--status", "404", &url(addr, "/404")]);
    let late = probe(&[&url(addr, "/404"), "--status", "404"]);
    assert_eq!(late.status.code(), Some(125), "{}", text(&late).1);
    assert!(text(&late).1.contains("target \"--status\": no scheme"), "{}", text(&late).1);
}

#[test]
fn success_is_logged_only_when_asked() {
    let addr = serve(router);
    let out = Command::new(applet("probe")).env("HARDBOX_LOG", "info").arg(url(addr, "/200")).output().expect("probe");
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout.is_empty());
    assert!(stderr.starts_with(&format!("probe: http://{addr}/200: 200 OK after ")), "{stderr}");
}

/// A server that takes `port` once `delay` has passed.
fn serve_later(port: u16, delay: Duration) {
    thread::spawn(move || {
        thread::sleep(delay);
        let addr = serve_on(&format!("127.0.0.1:{port}"), router);
        assert_eq!(addr.port(), port);
    });
}

#[test]
fn wait_retries_until_the_server_comes_up() {
    let port = free_port();
    serve_later(port, Duration::from_millis(1500));
    let start = Instant::now();
    healthy(&["--wait", "10s", "--every", "100ms", &format!("http://127.0.0.1:{port}/")]);
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(1500) && took < Duration::from_millis(2500), "took {took:?}");
    // And gives up with the last failure's line when it does not.
    let port = free_port();
    let start = Instant::now();
    let line = unhealthy(&["--wait", "1s", "--every", "200ms", &format!("tcp://127.0.0.1:{port}")]);
    let took = start.elapsed();
    assert!(line.contains("connection refused after") && line.ends_with("(gave up after 1 s)"), "{line}");
    assert!(took >= Duration::from_millis(800) && took < Duration::from_millis(1300), "took {took:?}");
}

#[test]
fn python_http_server_curl_and_busybox_wget_agree() {
    if !require_tool("python_http_server_curl_and_busybox_wget_agree", "python3")
        || !require_tool("python_http_server_curl_and_busybox_wget_agree", "curl")
        || !require_tool("python_http_server_curl_and_busybox_wget_agree", "busybox")
    {
        return;
    }
    let dir = TempDir::new("probe-python");
    std::fs::write(dir.path().join("healthz"), "ok\n").expect("write");
    let port = free_port();
    let server = Command::new("python3")
        .args(["-m", "http.server", "--bind", "127.0.0.1", &port.to_string()])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 -m http.server");
    let server = Killed(server);
    let healthz = format!("http://127.0.0.1:{port}/healthz");
    healthy(&["--wait", "10s", "--every", "50ms", &healthz]);
    for (path, want) in [("/healthz", 0), ("/", 0), ("/nope", 1)] {
        let target = format!("http://127.0.0.1:{port}{path}");
        let out = probe(&[&target]);
        let curl = Command::new("curl").args(["-fsS", "-o", "/dev/null", &target]).output().expect("curl");
        let wget = Command::new("busybox").args(["wget", "-q", "-O", "/dev/null", &target]).output().expect("wget");
        assert_eq!(out.status.code(), Some(want), "{path}: {}", text(&out).1);
        assert_eq!(curl.status.success(), want == 0, "curl and probe disagree on {path}");
        assert_eq!(wget.status.success(), want == 0, "busybox wget and probe disagree on {path}");
    }
    healthy(&["--expect", "ok", &healthz]);
    drop(server);
}

/// A child killed and reaped when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn dhi_bootstrap_waits_for_its_targets_before_the_command() {
    let dir = TempDir::new("probe-dhi");
    let marker = dir.path().join("ran");
    let port = free_port();
    serve_later(port, Duration::from_millis(1000));
    let start = Instant::now();
    let out = Command::new(applet("dhi-bootstrap"))
        .env("HARDBOX_LOG", "quiet")
        .args(["--no-drop", "--wait-for", &format!("http://127.0.0.1:{port}/200"), "--wait-for"])
        .arg(format!("tcp://127.0.0.1:{port}"))
        .args(["--wait-timeout", "10s", "--", "sh", "-c", "date +%s%N > \"$0\""])
        .arg(&marker)
        .output()
        .expect("dhi-bootstrap");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    assert!(start.elapsed() >= Duration::from_millis(1000), "the command ran before the server was up");
    assert!(marker.exists(), "the command never ran");

    // Still down at the deadline: 125, one line, and the command never starts.
    let port = free_port();
    std::fs::remove_file(&marker).expect("rm marker");
    let start = Instant::now();
    let out = Command::new(applet("dhi-bootstrap"))
        .args(["--no-drop", "--wait-for", &format!("http://127.0.0.1:{port}/"), "--wait-timeout", "1s", "touch"])
        .arg(&marker)
        .output()
        .expect("dhi-bootstrap");
    let took = start.elapsed();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(125), "{stderr}");
    assert!(!marker.exists(), "the command ran although its dependency never came up");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with(&format!("dhi-bootstrap: http://127.0.0.1:{port}/: connection refused after "))
            && lines[0].ends_with("(gave up after 1 s)"),
        "{stderr}"
    );
    assert!(took < Duration::from_millis(1500), "took {took:?}");
}
