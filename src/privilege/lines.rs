//! /etc/passwd and /etc/group lines exactly as musl reads them
//! (`__getpwent_a` and `__getgrent_a`), quirks included, so that what a
//! lookup through musl returned can be checked against the line it came
//! from:
//! - each line loses its last byte (the newline, or a real byte on a last
//!   line without one), and a NUL ends any field it is in;
//! - the name is found by a `:` search that starts at its second byte;
//! - an id is the run of digits at its start, with no overflow check and
//!   nothing at all read as 0 (`99999999999` is 1215752191, `` is 0): a line
//!   whose id text is not exactly that number is read, but not spelled;
//! - the member field runs to the end of the line, colons and all
//!   (`fake:x:0:node:` lists `node:`), split at commas, and the byte right
//!   after a comma is never taken as a separator (`a,,b` lists `a`, `,b`).
//!
//! Lines musl skips (too few fields, a non-digit in an id) are skipped.

/// An id field as musl computed it, and whether the text spells that value
/// (one or more digits, no overflow).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct IdField {
    pub(super) value: u32,
    pub(super) exact: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PasswdLine<'a> {
    /// 1-based, for messages.
    pub(super) number: usize,
    pub(super) name: &'a [u8],
    pub(super) uid: IdField,
    pub(super) gid: IdField,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct GroupLine<'a> {
    pub(super) number: usize,
    pub(super) name: &'a [u8],
    pub(super) gid: IdField,
    pub(super) members: Vec<&'a [u8]>,
}

/// Every /etc/passwd line musl would return, in file order.
pub(super) fn passwd(text: &[u8]) -> impl Iterator<Item = PasswdLine<'_>> {
    lines(text).filter_map(|(number, line)| {
        let (name, uid_at) = name_and_next_field(line)?;
        let (uid, end) = atou(line, uid_at);
        expect_colon(line, end)?;
        let (gid, end) = atou(line, end + 1);
        expect_colon(line, end)?;
        // gecos and dir must each end in a colon, or musl skips the line.
        let gecos_end = strchr(line, end + 1)?;
        strchr(line, gecos_end + 1)?;
        Some(PasswdLine { number, name, uid, gid })
    })
}

/// Every /etc/group line musl would return, in file order.
pub(super) fn group(text: &[u8]) -> impl Iterator<Item = GroupLine<'_>> {
    lines(text).filter_map(|(number, line)| {
        let (name, gid_at) = name_and_next_field(line)?;
        let (gid, end) = atou(line, gid_at);
        expect_colon(line, end)?;
        Some(GroupLine { number, name, gid, members: members(line, end + 1) })
    })
}

/// What getline hands musl, numbered: split at newlines, the last byte of
/// each line then overwritten by the terminator.
fn lines(text: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let mut pieces = text.split(|&b| b == b'\n').enumerate().peekable();
    std::iter::from_fn(move || {
        let (index, piece) = pieces.next()?;
        if pieces.peek().is_some() {
            return Some((index + 1, piece));
        }
        // After the last newline: no line at all, or one without a newline.
        match piece.split_last() {
            Some((_, rest)) => Some((index + 1, rest)),
            None => None,
        }
    })
}

/// The byte at `i`, with the C string's terminator past the end.
fn at(line: &[u8], i: usize) -> u8 {
    line.get(i).copied().unwrap_or(0)
}

/// strchr(line + from, ':'): None at the terminator or an embedded NUL.
fn strchr(line: &[u8], from: usize) -> Option<usize> {
    (from..).map(|i| (i, at(line, i))).take_while(|&(_, b)| b != 0).find(|&(_, b)| b == b':').map(|(i, _)| i)
}

/// The C string that starts at `from` and ends at `end` or at a NUL.
fn c_str(line: &[u8], from: usize, end: usize) -> &[u8] {
    let field = line.get(from..end.min(line.len())).unwrap_or_default();
    field.split(|&b| b == 0).next().unwrap_or_default()
}

fn expect_colon(line: &[u8], i: usize) -> Option<()> {
    (at(line, i) == b':').then_some(())
}

/// The name, and where the field after the password starts.
fn name_and_next_field(line: &[u8]) -> Option<(&[u8], usize)> {
    let name_end = strchr(line, 1)?;
    let password_end = strchr(line, name_end + 1)?;
    Some((c_str(line, 0, name_end), password_end + 1))
}

/// musl's atou: decimal digits, unsigned arithmetic that wraps.
fn atou(line: &[u8], from: usize) -> (IdField, usize) {
    let mut value = 0u32;
    let mut exact = true;
    let mut i = from;
    while at(line, i).is_ascii_digit() {
        let digit = u32::from(at(line, i) - b'0');
        match value.checked_mul(10).and_then(|v| v.checked_add(digit)) {
            Some(v) => value = v,
            None => {
                exact = false;
                value = value.wrapping_mul(10).wrapping_add(digit);
            }
        }
        i += 1;
    }
    (IdField { value, exact: exact && i > from }, i)
}

/// The member list from `from` to the end of the line, split as musl
/// splits it: each comma the scan meets ends a member, and the scan then
/// steps over the byte after it.
fn members(line: &[u8], from: usize) -> Vec<&[u8]> {
    if at(line, from) == 0 {
        return Vec::new();
    }
    let mut starts = vec![from];
    let mut i = from;
    while at(line, i) != 0 {
        if at(line, i) == b',' {
            i += 1;
            starts.push(i);
        }
        i += 1;
    }
    let ends = starts.iter().skip(1).map(|&next| next - 1).chain([line.len()]);
    starts.iter().zip(ends).map(|(&start, end)| c_str(line, start, end)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(value: u32, exact: bool) -> IdField {
        IdField { value, exact }
    }

    #[test]
    fn passwd_lines_as_musl_reads_them() {
        let text = b"root:x:0:0::/:/bin/sh\nbig:x:99999999999:1::/:/bin/sh\napp:x:0001234:1234::/h:/bin/sh\n\
                     plus:x:+8:8::/:/bin/sh\nshort:x:9\nempty:x::5::/:\nhex:x:0x10:0::/:/bin/sh\n\n:x:x:1:1::/:\n\
                     nul\0:x:2:2::/:\nlast:x:3:3::/:x";
        let read: Vec<(&[u8], IdField, IdField)> = passwd(text).map(|l| (l.name, l.uid, l.gid)).collect();
        let want: Vec<(&[u8], IdField, IdField)> = vec![
            (b"root", id(0, true), id(0, true)),
            (b"big", id(1_215_752_191, false), id(1, true)),
            (b"app", id(1234, true), id(1234, true)),
            (b"empty", id(0, false), id(5, true)),
            // The `:` search starts at the second byte: the name is `:x`.
            (b":x", id(1, true), id(1, true)),
            // The last byte of a last line without newline is lost: still a line.
            (b"last", id(3, true), id(3, true)),
        ];
        assert_eq!(read, want);
        let numbers: Vec<usize> = passwd(text).map(|l| l.number).collect();
        assert_eq!(numbers, [1, 2, 3, 6, 9, 11]);
        // The dir must end in a colon; without a newline the colon is the lost byte.
        assert_eq!(passwd(b"x:x:1:1::/home\n").count(), 0);
        assert_eq!(passwd(b"x:x:1:1::/home:").count(), 0);
        assert_eq!(passwd(b"x:x:1:1::/home:\n").count(), 1);
    }

    #[test]
    fn group_lines_as_musl_reads_them() {
        let text = b"evil:x:4294967296:node\nfake:x:0:node:\nstaff:x:50:root,app\ndup:x:7:a,,b\nnone:x:8:\n\
                     tail:x:9:a,\nnul:x:10:a\0b,c\nshort:x:11\nlast:x:12:node";
        type Read<'a> = (&'a [u8], IdField, Vec<&'a [u8]>);
        let read: Vec<Read> = group(text).map(|l| (l.name, l.gid, l.members)).collect();
        let want: Vec<Read> = vec![
            (b"evil", id(0, false), vec![b"node"]),
            (b"fake", id(0, true), vec![b"node:"]),
            (b"staff", id(50, true), vec![b"root", b"app"]),
            (b"dup", id(7, true), vec![b"a", b",b"]),
            (b"none", id(8, true), vec![]),
            (b"tail", id(9, true), vec![b"a", b""]),
            (b"nul", id(10, true), vec![b"a"]),
            (b"last", id(12, true), vec![b"nod"]),
        ];
        assert_eq!(read, want);
    }

    #[test]
    fn nothing_panics_on_any_bytes() {
        let alphabet = [b':', b',', b'\n', b'\0', b'0', b'9', b'a', b'+'];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..100_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 20) as usize;
            let text: Vec<u8> = (0..len).map(|i| alphabet[((seed >> (3 * i)) % 8) as usize]).collect();
            passwd(&text).for_each(drop);
            group(&text).for_each(drop);
        }
    }
}
