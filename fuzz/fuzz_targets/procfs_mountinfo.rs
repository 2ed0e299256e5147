//! inspect's /proc/PID/mountinfo parser on arbitrary bytes. Properties: no
//! panic; at most one mount per line; unescaping only shrinks a field, so
//! nothing grows beyond the input.
#![no_main]

use hardbox::procfs::parse::mountinfo;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let text = String::from_utf8_lossy(bytes);
    let mounts = mountinfo(&text);
    assert!(mounts.len() <= text.lines().count());
    for mount in &mounts {
        // from_utf8_lossy may widen a byte to U+FFFD (3 bytes), no more.
        assert!(mount.point.len() <= 3 * text.len() && mount.source.len() <= 3 * text.len());
        let _ = (mount.read_only(), mount.has("noexec"));
    }
});
