//! dhi-bootstrap: the container entrypoint. What an entrypoint script did
//! (secrets from files, umask, limits, volume ownership: src/entry/), then
//! routes, then a privilege drop, then the command, supervised as a correct
//! PID 1 (issues 4 and 15).
//!
//! Fail closed: everything (secrets, limits, trees, expansion, route specs,
//! the user) is resolved before the first change to the system, and a
//! failed step means the command never starts.

use std::ffi::OsString;
use std::time::Duration;

use argh::FromArgs;
use nix::errno::Errno;

use crate::entry::limits::{self, Limit};
use crate::entry::own::{self, Own};
use crate::entry::secrets::{self, FileEnv};
use crate::entry::umask;
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
/// Container entrypoint. In this order: set variables from secret files
/// (--file-env), the umask, resource limits (--rlimit), give volumes to the
/// user (--own), set routes, drop privileges for good, then run COMMAND
/// (supervised as PID 1: signals forwarded, zombies reaped, status passed
/// on). Everything is checked before the first step. Environment: FILE_ENV,
/// UMASK, RLIMITS, OWN_PATHS, ROUTE_DESTINATION and ROUTE_GATEWAY (both or
/// neither), ROUTES (specs separated by ; or newlines), DROP_TO_USER
/// (default node). Flags win.
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
    /// step 1: set each NAME from the file $NAME_FILE names, and unset
    /// NAME_FILE (repeatable; else $FILE_ENV)
    #[argh(option, arg_name = "NAME[,NAME]")]
    file_env: Vec<String>,
    /// step 2: the command's umask, octal, e.g. 0027 (else $UMASK)
    #[argh(option, arg_name = "MODE")]
    umask: Option<String>,
    /// step 3: resource limits as prlimit names them, e.g.
    /// nofile=1024:4096,core=0 (repeatable; else $RLIMITS)
    #[argh(option, arg_name = "NAME=SOFT[:HARD]")]
    rlimit: Vec<String>,
    /// step 4: give PATH and all under it to the user (or UID:GID), never
    /// following a symlink or entering another mount (repeatable; else
    /// $OWN_PATHS, separated by ; or newlines)
    #[argh(option, arg_name = "PATH[:UID:GID]")]
    own: Vec<String>,
    /// run COMMAND in a new session, without the caller's terminal, so that
    /// it cannot push input into it (TIOCSTI)
    #[argh(switch)]
    setsid: bool,
    /// as an init, hold the first SIGTERM this long before forwarding it,
    /// e.g. 10s (default: $TERM_DELAY); a second TERM or an INT forwards it
    #[argh(option)]
    term_delay: Option<String>,
    /// as PID 1, once the command exits: SIGTERM to the processes left, this
    /// long for them to go, then SIGKILL (default: $STOP_GRACE, else 5s; 0
    /// exits at once)
    #[argh(option)]
    stop_grace: Option<String>,
    /// as an init, map the command's exit status, FROM=TO[,...], e.g. 143=0
    /// (default: $MAP_EXIT)
    #[argh(option)]
    map_exit: Option<String>,
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
    secrets: FileEnv,
    umask: Option<u32>,
    limits: Vec<Limit>,
    own: Vec<Own>,
    /// DROP_TO_USER when --no-drop wins over it, to say so.
    ignored_user: Option<String>,
    setsid: bool,
    /// Open only when there are routes to add.
    socket: Option<RouteSocket>,
    routes: Vec<CheckedRoute>,
    /// None with --no-drop.
    user: Option<Target>,
    command: Vec<String>,
    supervise: bool,
    group_signals: bool,
    stop: supervise::Stop,
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
        let secrets = match list(&args.file_env, "--file-env", "FILE_ENV", env)? {
            Some((source, list)) => secrets::resolve(source, &list, &|name| setting(env, name))?,
            None => FileEnv::default(),
        };
        let umask = match (&args.umask, setting(env, "UMASK")?) {
            (Some(mask), _) => Some(umask::parse("--umask", mask)?),
            (None, Some(mask)) => Some(umask::parse("UMASK", &mask)?),
            (None, None) => None,
        };
        let limits = match list(&args.rlimit, "--rlimit", "RLIMITS", env)? {
            Some((source, list)) => limits::resolve(source, &list)?,
            None => Vec::new(),
        };
        let command = if args.expand_env { expand::expand_command(&args.command, env)? } else { args.command.clone() };
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
        let own_paths = setting(env, "OWN_PATHS")?;
        let (source, items): (&str, Vec<&str>) = match (&args.own[..], &own_paths) {
            ([], Some(list)) => ("OWN_PATHS", split_routes(list).collect()),
            (flags, _) => ("--own", flags.iter().map(String::as_str).collect()),
        };
        let specs = items.iter().map(|item| own::parse(source, item)).collect::<Result<Vec<_>>>()?;
        let own = own::resolve(source, &specs, user.as_ref().map(|target| (target.uid, target.gid)))?;
        let ignored_user = if args.no_drop { setting(env, "DROP_TO_USER")? } else { None };
        let wait_for = probe::parse_targets(&args.wait_for, args.expand_env)?;
        let wait_timeout = match &args.wait_timeout {
            Some(text) => probe::parse_duration("--wait-timeout", text)?,
            None => WAIT_TIMEOUT,
        };
        let pid1 = nix::unistd::getpid().as_raw() == 1;
        let supervise = args.init || (pid1 && !args.exec);
        let (term_delay, map_exit, stop_grace) =
            (args.term_delay.as_deref(), args.map_exit.as_deref(), args.stop_grace.as_deref());
        let stop = supervise::Stop::resolve(term_delay, map_exit, stop_grace, &|name| setting(env, name))?;
        if let Some(what) = stop.needs_init().filter(|_| !supervise) {
            let why = if args.exec { "--exec leaves no init" } else { "not PID 1 (add --init)" };
            return Err(Error::new(format!("{what} needs dhi-bootstrap as the init: {why}")));
        }
        Ok(Plan {
            secrets,
            umask,
            limits,
            own,
            ignored_user,
            setsid: args.setsid,
            wait_for,
            wait_timeout,
            socket,
            routes,
            user,
            command,
            supervise,
            group_signals: args.group_signals,
            stop,
        })
    }

    fn run(mut self) -> Result<u8> {
        // An init takes its signals from the start: a `docker stop` during
        // the steps is queued and forwarded once the command runs, where
        // PID 1 would otherwise drop it (it has no handler).
        let signals = if self.supervise { Some(supervise::configure_signals()?) } else { None };
        if !self.wait_for.is_empty() {
            let options = probe::Options::new();
            let lines =
                probe::wait(&self.wait_for, &options, self.wait_timeout, probe::DEFAULT_EVERY).map_err(Error::new)?;
            lines.iter().for_each(|line| info!("up: {line}"));
        }
        if !self.secrets.is_empty() {
            self.secrets.apply();
            info!("file-env: {}", self.secrets);
        }
        if let Some(mask) = self.umask {
            umask::apply(mask);
            info!("umask {mask:04o}");
        }
        if !self.limits.is_empty() {
            limits::apply(&self.limits)?;
            info!("rlimit {}", limits::Shown(&self.limits));
        }
        for own in &self.own {
            let tally = own::apply(own)?;
            info!("own {own}: {tally}");
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
            None => {
                if let Some(user) = &self.ignored_user {
                    info!("--no-drop: DROP_TO_USER={} ignored", escaped(user));
                }
                info!("--no-drop: staying uid {}, gid {}", nix::unistd::getuid(), nix::unistd::getgid());
            }
        }
        let Some(state) = signals else {
            if self.setsid {
                return run_in_new_session(&self.command, self.group_signals);
            }
            return Err(supervise::exec(&self.command));
        };
        if nix::unistd::getpid().as_raw() != 1 {
            supervise::become_subreaper()?;
        }
        // A new session is a new process group too; setsid() is refused
        // to a process that already leads one.
        let options = supervise::Options {
            own_group: !self.setsid,
            new_session: self.setsid,
            group_signals: self.group_signals,
            shed_startup_pages: true,
            leave_cwd: true,
            term_delay: self.stop.term_delay,
            stop_grace: self.stop.stop_grace,
        };
        Ok(self.stop.exit_map.apply(supervise::supervise(&self.command, &state, options)?))
    }
}

/// setsid() is refused to a process group leader (dhi-bootstrap started by
/// an interactive shell, or as a session's leader): then the command runs
/// as a child in its own session, and we pass signals and its status on.
fn run_in_new_session(command: &[String], group_signals: bool) -> Result<u8> {
    match nix::unistd::setsid() {
        Ok(_) => Err(supervise::exec(command)),
        Err(Errno::EPERM) => {
            let signals = supervise::configure_signals()?;
            let options = supervise::Options { new_session: true, group_signals, ..Default::default() };
            supervise::supervise(command, &signals, options)
        }
        Err(e) => Err(Error::sys("setsid", e, None)),
    }
}

/// A value for an info line: as it is when plain, quoted and escaped when
/// it holds anything that could forge a line or hide in one.
fn escaped(value: &str) -> String {
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_graphic()) {
        value.to_owned()
    } else {
        format!("{value:?}")
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

/// A list option of the entrypoint steps: the flags joined by commas when
/// given (they win), else the variable; with its name, for messages.
fn list(flags: &[String], flag: &'static str, var: &'static str, env: &Env) -> Result<Option<(&'static str, String)>> {
    if !flags.is_empty() {
        return Ok(Some((flag, flags.join(","))));
    }
    Ok(setting(env, var)?.map(|value| (var, value)))
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
    fn step_flags_win_over_their_variables() {
        let env = env_of(&[("RLIMITS", "core=0"), ("FILE_ENV", "")]);
        let flags = ["nofile=1".to_string(), "core=1".to_string()];
        assert_eq!(list(&flags, "--rlimit", "RLIMITS", &env).unwrap(), Some(("--rlimit", "nofile=1,core=1".into())));
        assert_eq!(list(&[], "--rlimit", "RLIMITS", &env).unwrap(), Some(("RLIMITS", "core=0".into())));
        assert_eq!(list(&[], "--file-env", "FILE_ENV", &env).unwrap(), None, "empty counts as unset");
        assert_eq!(escaped("node"), "node");
        assert_eq!(escaped("a\nb"), "\"a\\nb\"");
        assert_eq!(escaped(""), "\"\"");
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
