//! hardbox: the shared core that every applet stands on.
//!
//! The unsafe and libc parts live in the core modules, in small documented
//! functions; the applets (in `applets/`) read like a recipe over them.

pub mod log;

pub mod cli;
pub mod entry;
pub mod error;
pub mod expand;
pub mod install;
pub mod namespace;
pub mod netlink;
pub mod privilege;
pub mod probe;
pub mod procfs;
pub mod record;
pub mod route;
pub mod supervise;

#[path = "../applets/mod.rs"]
pub mod applets;

pub use error::{Error, Result};
