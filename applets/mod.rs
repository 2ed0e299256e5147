//! The applet table: the one place that lists applets. Dispatch, `--list`,
//! `--install` and the help text all read it.

use std::ffi::OsString;

use crate::error::Result;

pub struct Applet {
    pub name: &'static str,
    pub summary: &'static str,
    /// Runs the applet with its arguments (argv[0] already removed) and
    /// returns the exit status, or an error that carries one.
    pub main: fn(&[OsString]) -> Result<u8>,
}

pub const APPLETS: &[Applet] = &[];

pub fn find(name: &str) -> Option<&'static Applet> {
    APPLETS.iter().find(|applet| applet.name == name)
}
