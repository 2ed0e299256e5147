//! probe's HTTP response reader (`http::read_response`), fed any bytes in
//! reads of any size. Properties: nothing panics; where the reads break
//! changes nothing but how far the body was read; the body read never
//! exceeds 64 KiB; without `--expect` the head alone decides, with the same faults.
#![no_main]

use std::io::Read;

use hardbox::probe::{http, BODY_LIMIT};
use libfuzzer_sys::fuzz_target;

/// Hands out the bytes `step` at a time.
struct Reads<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Reads<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.data.len().min(self.step).min(out.len());
        out[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&first, rest)) = input.split_first() else { return };
    let step = usize::from(first % 16) + 1;
    let head_only = first & 0x80 != 0;
    let expect: &[u8] = b"ok";
    let whole = http::read_response(&mut Reads { data: rest, step: rest.len().max(1) }, head_only, Some(expect));
    let split = http::read_response(&mut Reads { data: rest, step }, head_only, Some(expect));
    let key = |r: &Result<http::Response, hardbox::probe::Fault>| {
        r.as_ref().map(|r| (r.code, r.reason.clone(), r.found)).map_err(Clone::clone)
    };
    assert_eq!(key(&whole), key(&split), "step {step}");
    if let Ok(response) = &split {
        assert!(response.body_read <= BODY_LIMIT);
    }
    // Without --expect only the head is read: its faults are the same ones.
    let plain = http::read_response(&mut Reads { data: rest, step }, head_only, None);
    match (&plain, &split) {
        (Err(a), Err(b)) => assert_eq!(a, b),
        (Err(a), Ok(_)) => panic!("the head failed ({a:?}) only without --expect"),
        (Ok(p), Ok(s)) => assert_eq!((p.code, &p.reason), (s.code, &s.reason)),
        (Ok(_), Err(_)) => {}
    }
});
