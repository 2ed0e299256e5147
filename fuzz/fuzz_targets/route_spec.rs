//! route-add's grammar (`RouteSpec::parse_line`, also `--route` and ROUTES).
//! Property: a spec that parses prints (Display) as text that parses back to
//! the same spec, in the same family; and parsing never panics.
#![no_main]

use hardbox::route::RouteSpec;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|line: &str| {
    let Ok(spec) = RouteSpec::parse_line(line) else { return };
    let text = spec.to_string();
    let words: Vec<&str> = text.split_whitespace().collect();
    match RouteSpec::parse(&words, Some(spec.family)) {
        Ok(again) => assert_eq!(again, spec, "{line:?} printed as {text:?}"),
        Err(e) => panic!("{line:?} printed as {text:?}, which does not parse: {e}"),
    }
    // The canonical text is a fixed point.
    assert_eq!(RouteSpec::parse(&words, Some(spec.family)).map(|s| s.to_string()).ok().as_deref(), Some(&*text));
});
