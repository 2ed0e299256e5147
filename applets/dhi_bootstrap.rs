//! dhi-bootstrap: the container entrypoint. Routes, then a privilege drop,
//! then the command, supervised as a correct PID 1 (issue 4).
//!
//! Fail closed: everything (expansion, route specs, the user) is resolved
//! before the first change to the system, and a failed step means the
//! command never starts.

use std::ffi::OsString;
use std::time::Duration;

use argh::FromArgs;

use crate::error::{Error, Result};
use crate::netlink::{Change, CheckedRoute, RouteSocket};
use crate::privilege::{self, CapSet, DropOptions, Target, UserSpec};
use crate::route::RouteSpec;
use crate::{cli, expand, info, probe, supervise};

/// The user the Node package drops to when DROP_TO_USER is unset.
const DEFAULT_USER: &str = "node";
/// How long --wait-for waits when --wait-timeout is not given.
const WAIT_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(FromArgs)]
/// Container entrypoint: set routes, drop privileges for good, then run COMMAND
/// (supervised as PID 1: signals forwarded, zombies reaped, status passed on).
/// Environment: ROUTE_DESTINATION and ROUTE_GATEWAY (both or neither), ROUTES
/// (specs separated by ; or newlines), DROP_TO_USER (default node). Flags win.
struct Args {
    /// a route in route-add's grammar, e.g. "10.0.0.0/8 via 172.17.0.1"
    /// (repeatable; added after the environment's routes)
    #[argh(option)]
    route: Vec<String>,
    /// the user to become, USER[:GROUP] (default: $DROP_TO_USER, else node)
    #[argh(option)]
    user: Option<String>,
    /// capabilities to keep after the drop, e.g. NET_BIND_SERVICE,CHOWN
    #[argh(option)]
    keep_caps: Option<String>,
    /// stay the user hardbox was started as
    #[argh(switch)]
    no_drop: bool,
    /// supervise the command even when not PID 1 (as a child subreaper)
    #[argh(switch)]
    init: bool,
    /// exec the command even as PID 1, leaving no process of ours
    #[argh(switch)]
    exec: bool,
    /// forward signals to the command's whole process group
    #[argh(switch)]
    group_signals: bool,
    /// expand $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message}
    /// and $$ in COMMAND and ARGs, once, from the environment
    #[argh(switch)]
    expand_env: bool,
    /// wait until TARGET (a probe target) is healthy before the routes and the drop (repeatable)
    #[argh(option, arg_name = "TARGET")]
    wait_for: Vec<String>,
    /// how long --wait-for waits in all before the command is refused (default 30s)
    #[argh(option, arg_name = "DUR")]
    wait_timeout: Option<String>,
    /// the command and its arguments
    #[argh(positional, greedy)]
    command: Vec<String>,
}

pub fn main(args: &[OsString]) -> Result<u8> {
    let args: Args = cli::parse("dhi-bootstrap", args)?;
    let plan = Plan::resolve(args, &cli::env_var)?;
    plan.run()
}

/// Everything dhi-bootstrap will do, resolved and validated before any of it
/// is done.
struct Plan {
    /// Open only when there are routes to add.
    socket: Option<RouteSocket>,
    routes: Vec<CheckedRoute>,
    /// None with --no-drop.
    user: Option<Target>,
    command: Vec<String>,
    supervise: bool,
    group_signals: bool,
    wait_for: Vec<probe::Target>,
    wait_timeout: Duration,
}

impl Plan {
    /// Parses, expands, looks up and checks against the kernel (interfaces,
    /// users, groups), changing nothing.
    fn resolve(args: Args, env: &Env) -> Result<Plan> {
        if args.init && args.exec {
            return Err(Error::new("--init and --exec contradict each other: choose one"));
        }
        if args.command.is_empty() {
            return Err(Error::new("no command given (usage: dhi-bootstrap [OPTIONS] [--] COMMAND [ARG...])"));
        }
        let command = if args.expand_env {
            args.command.iter().map(|word| expand::expand(word, env)).collect::<Result<_>>()?
        } else {
            args.command.clone()
        };
        let specs = route_specs(&args.route, env)?
            .iter()
            .map(|line| RouteSpec::parse_line(line).map_err(|e| Error::new(format!("route {line:?}: {e}"))))
            .collect::<Result<Vec<_>>>()?;
        let (socket, routes) = if specs.is_empty() {
            (None, Vec::new())
        } else {
            let mut socket = RouteSocket::open()?;
            let routes = specs.iter().map(|spec| socket.check(spec)).collect::<Result<Vec<_>>>()?;
            (Some(socket), routes)
        };
        let keep_caps = args.keep_caps.as_deref().map(privilege::parse_caps).transpose()?.unwrap_or_default();
        let user = match user_spec(&args, env)? {
            None => None,
            Some((spec, source)) => Some(target(&spec, keep_caps).map_err(|e| {
                let why = match source {
                    Source::Flag => String::new(),
                    Source::Env => " (from DROP_TO_USER)".into(),
                    Source::Default => {
                        format!(" ({DEFAULT_USER} is the default: set DROP_TO_USER or --user, or pass --no-drop)")
                    }
                };
                Error::new(format!("{e}{why}"))
            })?),
        };
        let wait_for = probe::parse_targets(&args.wait_for, args.expand_env)?;
        let wait_timeout = match &args.wait_timeout {
            Some(text) => probe::parse_duration("--wait-timeout", text)?,
            None => WAIT_TIMEOUT,
        };
        let pid1 = nix::unistd::getpid().as_raw() == 1;
        Ok(Plan {
            wait_for,
            wait_timeout,
            socket,
            routes,
            user,
            command,
            supervise: args.init || (pid1 && !args.exec),
            group_signals: args.group_signals,
        })
    }

    fn run(mut self) -> Result<u8> {
        // An init takes its signals from the start: a `docker stop` during
        // the routes or the drop is queued and forwarded once the command
        // runs, where PID 1 would otherwise drop it (it has no handler).
        let signals = if self.supervise { Some(supervise::configure_signals()?) } else { None };
        if !self.wait_for.is_empty() {
            let options = probe::Options::new();
            let lines =
                probe::wait(&self.wait_for, &options, self.wait_timeout, probe::DEFAULT_EVERY).map_err(Error::new)?;
            lines.iter().for_each(|line| info!("up: {line}"));
        }
        if let Some(socket) = &mut self.socket {
            set_routes(socket, &self.routes)?;
        }
        // The command must not inherit it (it is close-on-exec too).
        drop(self.socket.take());
        match &self.user {
            Some(target) => {
                privilege::drop(target)?;
                privilege::apply_environment(target, false);
                info!("running as {target}");
            }
            None => info!("--no-drop: staying uid {}, gid {}", nix::unistd::getuid(), nix::unistd::getgid()),
        }
        let Some(state) = signals else {
            return Err(supervise::exec(&self.command));
        };
        if nix::unistd::getpid().as_raw() != 1 {
            supervise::become_subreaper()?;
        }
        let options = supervise::Options {
            own_group: true,
            group_signals: self.group_signals,
            shed_startup_pages: true,
            ..Default::default()
        };
        supervise::supervise(&self.command, &state, options)
    }
}

/// Sets every route, or none: when the kernel refuses one (a check cannot
/// foresee an unreachable gateway), the routes this run created are deleted
/// again before the error is returned. A route that replaced an existing one
/// stays replaced: the old one cannot be recovered exactly.
fn set_routes(socket: &mut RouteSocket, routes: &[CheckedRoute]) -> Result<()> {
    let mut created = Vec::new();
    for route in routes {
        match socket.set(route) {
            Ok(new) => {
                info!("route {route} set");
                if new {
                    created.push(route);
                }
            }
            Err(e) => {
                for done in created.iter().rev() {
                    if let Err(undo) = socket.apply(done, Change::Delete) {
                        crate::error!("route {done} stays: removing it again failed: {undo}");
                    }
                }
                return Err(e);
            }
        }
    }
    Ok(())
}

/// Who to become. Root is refused here rather than made "root without
/// capabilities": whoever asks dhi-bootstrap for root wants --no-drop.
fn target(spec: &str, keep_caps: CapSet) -> Result<Target> {
    let options = DropOptions { keep_caps, allow_root: true, ..Default::default() };
    let target = Target::resolve(&UserSpec::parse(spec)?, &options)?;
    if target.uid == 0 {
        return Err(Error::new(format!(
            "refusing to drop to {spec} (uid 0): use --no-drop to stay root, or name another user"
        )));
    }
    Ok(target)
}

/// The route specs to add, in order: the Node package's pair, then ROUTES,
/// then the flags (so with replace semantics a flag wins over the
/// environment for the same destination).
fn route_specs(flags: &[String], env: &Env) -> Result<Vec<String>> {
    let mut specs = Vec::new();
    match (setting(env, "ROUTE_DESTINATION")?, setting(env, "ROUTE_GATEWAY")?) {
        (Some(dest), Some(gateway)) => specs.push(format!("{dest} via {gateway}")),
        (None, None) => {}
        (Some(dest), None) => {
            return Err(Error::new(format!(
                "ROUTE_DESTINATION is {dest:?} but ROUTE_GATEWAY is not set: set both or neither"
            )))
        }
        (None, Some(gateway)) => {
            return Err(Error::new(format!(
                "ROUTE_GATEWAY is {gateway:?} but ROUTE_DESTINATION is not set: set both or neither"
            )))
        }
    }
    if let Some(routes) = setting(env, "ROUTES")? {
        specs.extend(split_routes(&routes).map(String::from));
    }
    specs.extend(flags.iter().cloned());
    Ok(specs)
}

/// The route specs of a ROUTES list: separated by `;` or newlines, trimmed,
/// empty ones skipped. Public for the fuzz target that checks it.
pub fn split_routes(list: &str) -> impl Iterator<Item = &str> {
    list.split([';', '\n']).map(str::trim).filter(|spec| !spec.is_empty())
}

/// Where the user to drop to was named, for messages.
#[derive(Debug, PartialEq, Eq)]
enum Source {
    Flag,
    Env,
    Default,
}

/// The user spec to drop to, or None with --no-drop.
fn user_spec(args: &Args, env: &Env) -> Result<Option<(String, Source)>> {
    if args.no_drop {
        return match (&args.user, &args.keep_caps) {
            (Some(user), _) => Err(Error::new(format!("--no-drop contradicts --user {user}: choose one"))),
            (None, Some(caps)) => Err(Error::new(format!("--no-drop contradicts --keep-caps {caps}: choose one"))),
            (None, None) => Ok(None),
        };
    }
    Ok(Some(match (&args.user, setting(env, "DROP_TO_USER")?) {
        (Some(user), _) => (user.clone(), Source::Flag),
        (None, Some(user)) => (user, Source::Env),
        (None, None) => (DEFAULT_USER.to_owned(), Source::Default),
    }))
}

/// The environment, as a lookup that tests can fake.
type Env = dyn Fn(&str) -> Result<Option<String>>;

/// A configuration variable: empty counts as unset, as in the Node package
/// (which tests them for truth).
fn setting(env: &Env, name: &str) -> Result<Option<String>> {
    Ok(env(name)?.filter(|value| !value.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Args {
        Args::from_args(&["dhi-bootstrap"], list).unwrap_or_else(|e| panic!("{list:?}: {}", e.output))
    }

    fn env_of(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Result<Option<String>> {
        move |name| Ok(vars.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned()))
    }

    #[test]
    fn the_node_pair_comes_first_then_routes_then_flags() {
        let env = env_of(&[
            ("ROUTE_DESTINATION", "10.0.0.0/8"),
            ("ROUTE_GATEWAY", "172.17.0.1"),
            ("ROUTES", " 192.0.2.0/24 via 10.1.1.1 ;\n\n198.51.100.0/24 dev eth0;"),
        ]);
        let specs = route_specs(&["203.0.113.0/24 via 10.1.1.1".into()], &env).unwrap();
        assert_eq!(
            specs,
            [
                "10.0.0.0/8 via 172.17.0.1",
                "192.0.2.0/24 via 10.1.1.1",
                "198.51.100.0/24 dev eth0",
                "203.0.113.0/24 via 10.1.1.1"
            ]
        );
        assert!(route_specs(&[], &env_of(&[])).unwrap().is_empty());
        assert!(route_specs(&[], &env_of(&[("ROUTES", " ; \n")])).unwrap().is_empty());
    }

    #[test]
    fn exactly_one_of_the_pair_is_an_error() {
        let e = route_specs(&[], &env_of(&[("ROUTE_DESTINATION", "10.0.0.0/8")])).unwrap_err();
        assert!(e.message().contains("ROUTE_GATEWAY is not set") && e.message().contains("10.0.0.0/8"), "{e}");
        let e = route_specs(&[], &env_of(&[("ROUTE_GATEWAY", "172.17.0.1"), ("ROUTE_DESTINATION", "")])).unwrap_err();
        assert!(e.message().contains("ROUTE_DESTINATION is not set"), "{e}");
        assert_eq!(e.status(), 125);
    }

    #[test]
    fn the_user_comes_from_the_flag_then_drop_to_user_then_node() {
        let env = env_of(&[("DROP_TO_USER", "nobody")]);
        let spec = |list: &[&str], env: &Env| user_spec(&args(list), env).unwrap();
        assert_eq!(spec(&["--user", "daemon", "true"], &env), Some(("daemon".into(), Source::Flag)));
        assert_eq!(spec(&["true"], &env), Some(("nobody".into(), Source::Env)));
        assert_eq!(spec(&["true"], &env_of(&[])), Some(("node".into(), Source::Default)));
        assert_eq!(spec(&["true"], &env_of(&[("DROP_TO_USER", "")])), Some(("node".into(), Source::Default)));
        assert_eq!(user_spec(&args(&["--no-drop", "true"]), &env).unwrap(), None);
        assert!(user_spec(&args(&["--no-drop", "--user", "x", "true"]), &env).is_err());
        assert!(user_spec(&args(&["--no-drop", "--keep-caps", "CHOWN", "true"]), &env).is_err());
    }

    #[test]
    fn options_stop_at_the_command() {
        let parsed = args(&["--no-drop", "sh", "-c", "--init"]);
        assert_eq!(parsed.command, ["sh", "-c", "--init"]);
        assert!(!parsed.init);
        let parsed = args(&["--", "--init", "x"]);
        assert_eq!(parsed.command, ["--init", "x"]);
    }

    #[test]
    fn the_plan_is_refused_before_anything_is_done() {
        let env = env_of(&[("PORT", "8080")]);
        assert!(Plan::resolve(args(&["--init", "--exec", "true"]), &env).is_err());
        assert!(Plan::resolve(args(&["--no-drop"]), &env).is_err());
        let plan = Plan::resolve(args(&["--no-drop", "--expand-env", "a", "${PORT:-1}", "$$"]), &env).unwrap();
        assert_eq!(plan.command, ["a", "8080", "$"]);
        let plan = Plan::resolve(args(&["--no-drop", "a", "${PORT:-1}"]), &env).unwrap();
        assert_eq!(plan.command, ["a", "${PORT:-1}"], "nothing is expanded unless asked");
        assert!(Plan::resolve(args(&["--no-drop", "--expand-env", "${PORT"]), &env).is_err());
    }
}
