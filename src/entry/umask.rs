//! `--umask MODE`: the file mode creation mask the command starts with,
//! which `docker run` cannot set (moby #19189).

use crate::error::{Error, Result};

/// An octal mask of the permission bits, `027` or `0027`: up to four
/// digits, nothing above 0777 (the setuid, setgid and sticky bits are not
/// masked by umask).
pub fn parse(source: &str, text: &str) -> Result<u32> {
    let octal = !text.is_empty() && text.len() <= 4 && text.bytes().all(|b| (b'0'..=b'7').contains(&b));
    match octal.then(|| u32::from_str_radix(text, 8).ok()).flatten() {
        Some(mask) if mask <= 0o777 => Ok(mask),
        _ => Err(Error::new(format!("{source} {text:?}: expected an octal mode from 0000 to 0777, e.g. 0027"))),
    }
}

/// Sets the mask; umask(2) cannot fail.
pub fn apply(mask: u32) {
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(mask));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_are_octal_permission_bits() {
        assert_eq!(parse("--umask", "0027").unwrap(), 0o027);
        assert_eq!(parse("--umask", "77").unwrap(), 0o077);
        assert_eq!(parse("--umask", "0").unwrap(), 0);
        for bad in ["", "8", "0o27", "1027", "00027", "-027", " 027", "u=rwx", "0x1f"] {
            assert!(parse("UMASK", bad).is_err(), "{bad:?}");
        }
    }
}
