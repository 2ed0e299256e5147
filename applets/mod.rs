//! The applet table: the one place that lists applets. Dispatch, `--list`,
//! `--install` and the help text all read it.

use std::ffi::OsString;

use crate::error::Result;
use crate::log::Level;

pub mod checkpoint;
pub mod dhi_bootstrap;
pub mod dropuser;
pub mod inspect;
pub mod nsenter_lite;
pub mod probe;
pub mod route_add;

pub struct Applet {
    pub name: &'static str,
    pub summary: &'static str,
    /// The level when HARDBOX_LOG is unset: Info for the applets that write a
    /// container's start-up log, Quiet for the ad-hoc ones (silent on
    /// success, as ip, nsenter and gosu are).
    pub log: Level,
    /// Runs the applet with its arguments (argv[0] already removed) and
    /// returns the exit status, or an error that carries one.
    pub main: fn(&[OsString]) -> Result<u8>,
}

pub const APPLETS: &[Applet] = &[
    Applet {
        name: "checkpoint",
        log: Level::Info,
        summary: "run a command once per checkpoint, recorded atomically",
        main: checkpoint::main,
    },
    Applet {
        name: "dhi-bootstrap",
        log: Level::Info,
        summary: "container entrypoint: routes, privilege drop, then PID 1 for the command",
        main: dhi_bootstrap::main,
    },
    Applet {
        name: "dropuser",
        log: Level::Quiet,
        summary: "become a user for good: groups, ids, capabilities, no_new_privs",
        main: dropuser::main,
    },
    Applet {
        name: "inspect",
        log: Level::Quiet,
        summary: "show a process as it sees the world: ids, capabilities, limits, mounts, sockets",
        main: inspect::main,
    },
    Applet {
        name: "nsenter-lite",
        log: Level::Quiet,
        summary: "run a command inside another process's namespaces",
        main: nsenter_lite::main,
    },
    Applet {
        name: "probe",
        log: Level::Quiet,
        summary: "check http, tcp, unix and file targets for a HEALTHCHECK, or wait for them",
        main: probe::main,
    },
    Applet {
        name: "route-add",
        log: Level::Quiet,
        summary: "add, replace, delete or list routes over rtnetlink",
        main: route_add::main,
    },
];

pub fn find(name: &str) -> Option<&'static Applet> {
    APPLETS.iter().find(|applet| applet.name == name)
}
