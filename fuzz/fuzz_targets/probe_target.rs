//! probe's TARGET grammar, and its --status, --header and duration options.
//! Properties: nothing panics; a target that parses prints (Display) as a
//! target that parses back to the same one, and that text is a fixed point;
//! a parsed status list allows only three-digit codes.
#![no_main]

use hardbox::probe::{self, Statuses, Target};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(target) = Target::parse(text) {
        let shown = target.to_string();
        match Target::parse(&shown) {
            Ok(again) => assert_eq!(again, target, "{text:?} printed as {shown:?}"),
            Err(e) => panic!("{text:?} printed as {shown:?}, which does not parse: {e}"),
        }
    }
    if let Ok(statuses) = Statuses::parse(text) {
        assert!(!statuses.allows(99) && !statuses.allows(1000), "{text:?}");
    }
    if let Ok((name, value)) = probe::parse_header(text) {
        assert!(!name.is_empty() && !value.contains(['\r', '\n']), "{text:?}");
    }
    if let Ok(d) = probe::parse_duration("--timeout", text) {
        assert!(!d.is_zero(), "{text:?}");
    }
});
