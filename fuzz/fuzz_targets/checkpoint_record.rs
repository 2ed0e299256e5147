//! checkpoint's record file. Properties: a record that parses encodes back
//! to exactly the same bytes (the format is strict: one spelling per
//! record); and a record made by Record::new from any key and command
//! encodes to bytes that parse back to it.
#![no_main]

use hardbox::record::Record;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(record) = Record::parse(bytes) {
        assert_eq!(record.encode(), bytes, "a parsed record re-encodes differently");
    }
    let text = String::from_utf8_lossy(bytes);
    let command: Vec<String> = text.split('\0').map(String::from).collect();
    let made = Record::new(bytes, &command);
    let encoded = made.encode();
    assert_eq!(Record::parse(&encoded), Ok(made), "{:?}", String::from_utf8_lossy(&encoded));
});
