//! inspect's /proc/PID/net/{tcp,udp}{,6} parser, and the route and address
//! parsers that read the same kind of hex, on arbitrary bytes. Properties:
//! no panic; at most one entry per line; a route prints without a panic.
#![no_main]

use hardbox::procfs::parse::{addresses_v4, addresses_v6, routes_v4, routes_v6, sockets};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let text = String::from_utf8_lossy(bytes);
    let lines = text.lines().count();
    assert!(sockets(&text).len() <= lines);
    let v4 = routes_v4(&text);
    let v6 = routes_v6(&text);
    assert!(v4.len() <= lines && v6.len() <= lines);
    for route in v4.iter().chain(&v6) {
        assert!(!route.to_string().is_empty());
    }
    assert!(addresses_v4(&text, &v4).len() <= lines);
    assert!(addresses_v6(&text).len() <= lines);
});
