//! inspect's /proc/PID/limits parser on arbitrary bytes. Properties: no
//! panic; at most one limit per line after the header; a soft or hard
//! value is a number or unlimited, read from the line itself.
#![no_main]

use hardbox::procfs::parse::limits;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let text = String::from_utf8_lossy(bytes);
    let found = limits(&text);
    assert!(found.len() <= text.lines().count().saturating_sub(1));
    for limit in &found {
        for value in [limit.soft, limit.hard].into_iter().flatten() {
            assert!(text.contains(&value.to_string()), "{value} is not in the input");
        }
    }
});
