//! What the init does at stop and at exit (issue 15): hold the first SIGTERM
//! (`--term-delay`), map the command's exit status (`--map-exit`), and end
//! the processes left when the command exits (`--stop-grace`).

use std::time::{Duration, Instant};

use nix::errno::Errno;

use super::{wait_signal, Options};
use crate::error::{Error, Result};
use crate::{cli, debug, info};

/// The longest `--term-delay` or `--stop-grace` accepted: a day, far above
/// any engine's stop timeout, and a deadline that cannot overflow.
const MAX_WAIT: Duration = Duration::from_secs(24 * 60 * 60);

/// How long the processes left get after SIGTERM when nothing is said.
pub const DEFAULT_STOP_GRACE: Duration = Duration::from_secs(5);

/// The init's stop settings, resolved before anything is done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stop {
    pub term_delay: Option<Duration>,
    pub exit_map: ExitMap,
    pub stop_grace: Duration,
}

/// A lookup of a configuration variable (empty counts as unset).
pub type Settings<'a> = &'a dyn Fn(&str) -> Result<Option<String>>;

impl Stop {
    /// Each from its flag, else from its variable (TERM_DELAY, MAP_EXIT,
    /// STOP_GRACE): the flag wins.
    pub fn resolve(
        term_delay: Option<&str>,
        map_exit: Option<&str>,
        stop_grace: Option<&str>,
        env: Settings<'_>,
    ) -> Result<Stop> {
        let pick = |flag: Option<&str>, name: &str, var: &str| -> Result<Option<(String, String)>> {
            Ok(match flag {
                Some(value) => Some((format!("--{name}"), value.to_owned())),
                None => env(var)?.map(|value| (var.to_owned(), value)),
            })
        };
        let term_delay = match pick(term_delay, "term-delay", "TERM_DELAY")? {
            Some((what, value)) => Some(duration(&what, &value)?).filter(|delay| !delay.is_zero()),
            None => None,
        };
        let exit_map = match pick(map_exit, "map-exit", "MAP_EXIT")? {
            Some((what, value)) => ExitMap::parse(&what, &value)?,
            None => ExitMap::default(),
        };
        let stop_grace = match pick(stop_grace, "stop-grace", "STOP_GRACE")? {
            Some((what, value)) => duration(&what, &value)?,
            None => DEFAULT_STOP_GRACE,
        };
        Ok(Stop { term_delay, exit_map, stop_grace })
    }

    /// Whether anything here needs an init to do it (the grace has its
    /// default, and only PID 1 has leftovers to end).
    pub fn needs_init(&self) -> Option<&'static str> {
        if self.term_delay.is_some() {
            Some("--term-delay (or TERM_DELAY)")
        } else if !self.exit_map.is_empty() {
            Some("--map-exit (or MAP_EXIT)")
        } else {
            None
        }
    }
}

/// A duration in humantime's grammar (`2s`, `500ms`, `1m30s`; `0`).
fn duration(what: &str, text: &str) -> Result<Duration> {
    let time = humantime::parse_duration(text)
        .map_err(|e| Error::new(format!("{what} {text:?}: {e} (give a duration such as 5s, 500ms or 1m30s)")))?;
    if time > MAX_WAIT {
        return Err(Error::new(format!("{what} {text:?}: give at most 24h")));
    }
    Ok(time)
}

/// `--map-exit FROM=TO[,...]`: the command's status FROM leaves as TO.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExitMap(Vec<(u8, u8)>);

impl ExitMap {
    pub fn parse(what: &str, text: &str) -> Result<ExitMap> {
        let bad = |why: String| {
            Error::new(format!("{what} {text:?}: {why} (give FROM=TO[,...], each a status 0 to 255, e.g. 143=0)"))
        };
        let mut pairs: Vec<(u8, u8)> = Vec::new();
        for pair in text.split(',') {
            let Some((from, to)) = pair.split_once('=') else {
                return Err(bad(format!("{pair:?} is not FROM=TO")));
            };
            let status = |word: &str| cli::decimal::<u8>(word).ok_or_else(|| bad(format!("{word:?} is not a status")));
            let (from, to) = (status(from)?, status(to)?);
            if pairs.iter().any(|&(seen, _)| seen == from) {
                return Err(bad(format!("{from} is mapped twice")));
            }
            pairs.push((from, to));
        }
        Ok(ExitMap(pairs))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The status to leave with: mapped once, never chained (`1=2,2=3`
    /// sends 1 to 2).
    pub fn apply(&self, status: u8) -> u8 {
        match self.0.iter().find(|&&(from, _)| from == status) {
            Some(&(from, to)) => {
                info!("the command's status {from} leaves as {to} (--map-exit)");
                to
            }
            None => status,
        }
    }
}

/// The first SIGTERM held back by `--term-delay`.
#[derive(Default)]
pub(super) struct TermDelay {
    /// When the held SIGTERM is due; None when none is held.
    due: Option<Instant>,
    /// Whether the first SIGTERM has come: only that one is held.
    came: bool,
}

impl TermDelay {
    /// For each forwarded signal, the signals to forward now, in order: the
    /// first SIGTERM is held for the delay (none); a second SIGTERM, or a
    /// SIGINT, releases it at once (and the SIGINT follows it); every other
    /// signal goes on at once.
    pub(super) fn on_signal(&mut self, sig: libc::c_int, delay: Option<Duration>) -> Vec<libc::c_int> {
        match (sig, delay) {
            (libc::SIGTERM, Some(delay)) if !self.came => {
                self.came = true;
                self.due = Some(Instant::now() + delay);
                info!("SIGTERM: forwarding it in {} (--term-delay)", humantime::format_duration(delay));
                Vec::new()
            }
            (libc::SIGTERM, _) if self.due.take().is_some() => vec![libc::SIGTERM],
            (libc::SIGINT, _) if self.due.take().is_some() => vec![libc::SIGTERM, libc::SIGINT],
            _ => vec![sig],
        }
    }

    pub(super) fn due(&self) -> Option<Instant> {
        self.due
    }

    /// Whether the held SIGTERM is due now; it is released when it is.
    pub(super) fn release_if_due(&mut self, now: Instant) -> bool {
        let due = self.due.is_some_and(|at| at <= now);
        if due {
            self.due = None;
        }
        due
    }
}

/// As PID 1 once the command has exited: SIGTERM to every process left,
/// up to `--stop-grace` for them to go, then SIGKILL to the rest, and every
/// one reaped. Without it they would die by SIGKILL when the engine tears
/// the namespace down, with no chance to flush.
pub(super) fn end_leftovers(options: Options, blocked: &libc::sigset_t) -> Result<()> {
    let grace = options.stop_grace;
    if grace.is_zero() || nix::unistd::getpid().as_raw() != 1 || !reap_all() {
        return Ok(());
    }
    info!("the command exited: SIGTERM to the processes left, SIGKILL after {}", humantime::format_duration(grace));
    kill_all(libc::SIGTERM);
    let deadline = Instant::now() + grace;
    while reap_all() {
        let Some(left) = deadline.checked_duration_since(Instant::now()).filter(|left| !left.is_zero()) else {
            info!("SIGKILL to the processes still left after {}", humantime::format_duration(grace));
            kill_all(libc::SIGKILL);
            reap_until_none();
            return Ok(());
        };
        // SIGCHLD wakes us; anything else sent now is for no one.
        wait_signal(blocked, Some(left))?;
    }
    Ok(())
}

/// Every process of the PID namespace but us: kill(-1) as its PID 1.
fn kill_all(sig: libc::c_int) {
    // SAFETY: kill has no memory effects.
    if unsafe { libc::kill(-1, sig) } != 0 {
        debug!("kill -1 ({}): {}", super::signal_name(sig), crate::error::describe(Errno::last()));
    }
}

/// Reaps every child that has exited; true while any is left. As PID 1,
/// no child left means no process left: every other one descends from us.
fn reap_all() -> bool {
    loop {
        let mut status = 0;
        // SAFETY: waitpid writes only into `status`.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        match pid {
            0 => return true,
            pid if pid > 0 => debug!("reaped {pid}"),
            _ if Errno::last() == Errno::EINTR => {}
            _ => return false,
        }
    }
}

/// After SIGKILL to all: waits for each, until none is left.
fn reap_until_none() {
    loop {
        let mut status = 0;
        // SAFETY: waitpid writes only into `status`.
        let pid = unsafe { libc::waitpid(-1, &mut status, 0) };
        if pid < 0 && Errno::last() != Errno::EINTR {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Result<Option<String>> {
        move |name| Ok(vars.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned()))
    }

    #[test]
    fn flags_win_over_the_environment_and_the_grace_defaults_to_5s() {
        let env = env_of(&[("TERM_DELAY", "3s"), ("MAP_EXIT", "1=2"), ("STOP_GRACE", "1s")]);
        let stop = Stop::resolve(Some("500ms"), None, Some("0"), &env).unwrap();
        assert_eq!(stop.term_delay, Some(Duration::from_millis(500)));
        assert_eq!(stop.exit_map, ExitMap(vec![(1, 2)]));
        assert_eq!(stop.stop_grace, Duration::ZERO);
        let stop = Stop::resolve(None, None, None, &env_of(&[])).unwrap();
        assert_eq!(stop, Stop { term_delay: None, exit_map: ExitMap::default(), stop_grace: DEFAULT_STOP_GRACE });
        assert_eq!(stop.needs_init(), None);
        assert_eq!(Stop::resolve(Some("0"), None, None, &env_of(&[])).unwrap().term_delay, None);
    }

    #[test]
    fn bad_values_name_their_source() {
        let env = env_of(&[("TERM_DELAY", "soon")]);
        let e = Stop::resolve(None, None, None, &env).unwrap_err();
        assert!(e.message().starts_with("TERM_DELAY \"soon\": "), "{e}");
        for bad in ["5", "-1s", "", "25h", "1s x"] {
            let e = Stop::resolve(None, None, Some(bad), &env_of(&[])).unwrap_err();
            assert!(e.message().starts_with(&format!("--stop-grace {bad:?}: ")), "{e}");
        }
    }

    #[test]
    fn exit_maps_are_strict_and_applied_once() {
        let map = ExitMap::parse("--map-exit", "143=0,1=2,2=3").unwrap();
        assert_eq!((map.apply(143), map.apply(1), map.apply(2), map.apply(7)), (0, 2, 3, 7));
        for bad in ["", "143", "143=", "=0", "143=256", "+1=0", "143=0,", "1=0,1=2", "a=b", "143=0;1=0"] {
            let e = ExitMap::parse("--map-exit", bad).unwrap_err();
            assert!(e.message().starts_with(&format!("--map-exit {bad:?}: ")), "{bad:?}: {e}");
            assert_eq!(e.status(), 125);
        }
    }

    #[test]
    fn only_the_first_term_is_held() {
        let delay = Some(Duration::from_secs(2));
        let mut held = TermDelay::default();
        assert_eq!(held.on_signal(libc::SIGHUP, delay), vec![libc::SIGHUP]);
        assert_eq!(held.on_signal(libc::SIGTERM, delay), vec![]);
        assert!(held.due().is_some());
        assert!(!held.release_if_due(Instant::now()));
        assert_eq!(held.on_signal(libc::SIGUSR1, delay), vec![libc::SIGUSR1]);
        assert_eq!(held.on_signal(libc::SIGTERM, delay), vec![libc::SIGTERM], "released");
        assert_eq!(held.due(), None);
        assert_eq!(held.on_signal(libc::SIGTERM, delay), vec![libc::SIGTERM], "not held again");

        let mut held = TermDelay::default();
        held.on_signal(libc::SIGTERM, delay);
        assert_eq!(held.on_signal(libc::SIGINT, delay), vec![libc::SIGTERM, libc::SIGINT]);

        let mut held = TermDelay::default();
        held.on_signal(libc::SIGTERM, delay);
        assert!(held.release_if_due(Instant::now() + Duration::from_secs(3)));
        assert_eq!(held.due(), None);

        let mut none = TermDelay::default();
        assert_eq!(none.on_signal(libc::SIGTERM, None), vec![libc::SIGTERM]);
    }
}
