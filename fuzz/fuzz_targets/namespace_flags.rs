//! nsenter-lite's util-linux spellings (`normalise`) and its `-t` value
//! (`parse_pid`); the input is the argument list, split at NUL bytes.
//! Properties: the command (from the first argument that is not an option)
//! passes through whole and in order, after one `--`; what precedes it is
//! options and `-t`'s value only; a PID parses only from decimal digits
//! that print it back (leading zeros aside), and is above 0.
#![no_main]

use hardbox::applets::nsenter_lite::{normalise, parse_pid};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let args: Vec<String> = text.split('\0').map(String::from).collect();
    let out = normalise(args.clone());
    let mut words = out.iter().enumerate();
    while let Some((at, word)) = words.next() {
        if word == "--" {
            assert!(args.ends_with(&out[at + 1..]), "{args:?} lost its command: {out:?}");
            break;
        }
        if word == "-t" || word == "--target" {
            let value = words.next().map(|(_, v)| v.as_str());
            if let Ok(pid) = parse_pid(value) {
                let digits = value.unwrap_or_default();
                let exact =
                    digits.bytes().all(|b| b.is_ascii_digit()) && digits.trim_start_matches('0') == pid.to_string();
                assert!(pid > 0 && exact, "{value:?} read as {pid}");
            }
        } else {
            assert!(word.starts_with('-'), "{word:?} is taken for an option in {args:?}");
        }
    }
});
