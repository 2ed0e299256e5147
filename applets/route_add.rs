//! route-add: add, replace, delete or list routes over rtnetlink, with no
//! /sbin/ip in the image. Parse, check against the kernel, apply.

use std::ffi::OsString;
use std::io::Write;

use argh::FromArgs;

use crate::cli;
use crate::error::{Error, Result};
use crate::info;
use crate::netlink::{Change, RouteSocket};
use crate::route::{self, Family, RouteSpec, TABLE_MAIN};

/// Add or replace a route (like `ip route replace`), delete one, or list the table.
///
/// route-add [-4|-6] [--no-replace] [--delete] DEST [via GW] [dev IFACE] [metric N] [table ID] [src ADDR] [mtu N] [onlink]
/// route-add --list [-4|-6] [--table ID|all]
///
/// DEST is a prefix (10.0.0.0/8), an address (a host route) or `default`.
#[derive(FromArgs)]
struct Args {
    /// IPv4: the family of `default` with only dev, and of --list
    #[argh(switch, short = '4')]
    ipv4: bool,

    /// IPv6: the family of `default` with only dev, and of --list
    #[argh(switch, short = '6')]
    ipv6: bool,

    /// fail if the route exists instead of replacing it
    #[argh(switch)]
    no_replace: bool,

    /// remove the route; a missing one is an error
    #[argh(switch)]
    delete: bool,

    /// print the routing table as `ip route` does
    #[argh(switch)]
    list: bool,

    /// with --list: the table to show, a number, main, local, default or all (default main)
    #[argh(option)]
    table: Option<String>,

    /// the route: DEST [via GW] [dev IFACE] [metric N] [table ID] [src ADDR] [mtu N] [onlink]
    #[argh(positional, greedy)]
    route: Vec<String>,
}

pub fn main(args: &[OsString]) -> Result<u8> {
    let args: Args = cli::parse("route-add", args)?;
    let family = match (args.ipv4, args.ipv6) {
        (true, true) => return Err(Error::new("-4 and -6 exclude each other")),
        (true, false) => Some(Family::V4),
        (false, true) => Some(Family::V6),
        (false, false) => None,
    };
    if args.list {
        return list(&args, family);
    }
    if args.table.is_some() {
        return Err(Error::new("--table belongs to --list; a route names its table with the word table (table 100)"));
    }
    let words: Vec<&str> = args.route.iter().map(String::as_str).collect();
    let (spec, change) = match (args.delete, args.no_replace) {
        (true, true) => return Err(Error::new("--delete and --no-replace exclude each other")),
        (true, false) => (RouteSpec::parse_selector(&words, family)?, Change::Delete),
        (false, true) => (RouteSpec::parse(&words, family)?, Change::Create),
        (false, false) => (RouteSpec::parse(&words, family)?, Change::Replace),
    };
    let mut socket = RouteSocket::open()?;
    let route = socket.check(&spec)?;
    socket.apply(&route, change)?;
    let done = match change {
        Change::Replace => "set",
        Change::Create => "added",
        Change::Delete => "deleted",
    };
    info!("{done} {route}");
    Ok(0)
}

fn list(args: &Args, family: Option<Family>) -> Result<u8> {
    if args.delete || args.no_replace || !args.route.is_empty() {
        return Err(Error::new("--list takes no route, --delete or --no-replace (only -4, -6 and --table)"));
    }
    let table = match args.table.as_deref() {
        None => Some(TABLE_MAIN),
        Some("all") => None,
        Some(text) => Some(route::parse_table(text)?),
    };
    let lines = RouteSocket::open()?.list(family, table)?;
    let mut text = String::new();
    for line in lines {
        text.push_str(&line);
        text.push('\n');
    }
    std::io::stdout().lock().write_all(text.as_bytes()).map_err(|e| Error::new(format!("writing the routes: {e}")))?;
    Ok(0)
}
