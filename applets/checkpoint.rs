//! (being written)

use std::ffi::OsString;

use crate::error::{Error, Result};

pub fn main(_args: &[OsString]) -> Result<u8> {
    Err(Error::new("not built yet"))
}
