//! inspect's /proc/PID/status parser on arbitrary bytes. Properties: no
//! panic; the fields come from the input (never more than its lines); ids
//! and groups are found only where their key is.
#![no_main]

use hardbox::procfs::parse::Status;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let text = String::from_utf8_lossy(bytes);
    let status = Status::parse(&text);
    for key in ["Uid", "Gid", "Groups", "CapEff", "CapBnd", "SigBlk", "Umask", "NoNewPrivs", "Threads"] {
        let value = status.get(key);
        if value.is_none() {
            assert!(status.ids(key).is_none() && status.mask(key).is_none() && status.number(key).is_none());
        }
        if let Some(value) = value {
            assert!(text.contains(value));
        }
    }
    if let Some(groups) = status.groups() {
        assert!(groups.len() <= text.len());
    }
});
