//! The two parsers of route lists. dhi-bootstrap's ROUTES list (the input
//! as text): every piece is non-empty, trimmed and holds no separator; the
//! pieces are the input's, in order; and each goes through route-add's
//! grammar without a panic, a parsed one printing back to itself. And the
//! kernel's route dump (the input as one datagram), read through neli as
//! `route-add --list` reads it: no panic, and each route one line.
#![no_main]

use hardbox::applets::dhi_bootstrap::split_routes;
use hardbox::netlink::dump_lines;
use hardbox::route::RouteSpec;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for line in dump_lines(data) {
        assert!(!line.contains('\n'), "{line:?}");
    }
    let Ok(list) = std::str::from_utf8(data) else { return };
    let mut rest = list;
    for piece in split_routes(list) {
        assert!(!piece.is_empty() && piece.trim() == piece, "{piece:?}");
        assert!(!piece.contains([';', '\n']), "{piece:?} holds a separator");
        let at = rest.find(piece).expect("each piece comes from the list, in order");
        rest = &rest[at + piece.len()..];
        if let Ok(spec) = RouteSpec::parse_line(piece) {
            let text = spec.to_string();
            let words: Vec<&str> = text.split_whitespace().collect();
            assert_eq!(RouteSpec::parse(&words, Some(spec.family)).ok(), Some(spec), "{piece:?} as {text:?}");
        }
    }
    // Nothing but separators and blanks is no route at all.
    if list.chars().all(|c| c == ';' || c.is_whitespace()) {
        assert_eq!(split_routes(list).count(), 0);
    }
});
