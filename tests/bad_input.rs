//! Bad input, across every applet and every configuration input: one table
//! of invocations that must each be refused the same way (exit 125, one
//! stderr line naming the applet and quoting the bad value, no panic), and
//! must change nothing: the routing table of the network namespace they run
//! in is the same before and after, no checkpoint file is made, and the
//! command (which would leave a marker file) never runs. Then junk (non-UTF-8,
//! empty, the kernel's largest arguments, random bytes) in every position,
//! which must never panic.
//!
//! Refusals also tested, with more context, in the applets' own files:
//! route_add.rs (a_failed_step_leaves_the_table_as_it_was_and_says_one_line),
//! dropuser.rs (gosu_matrix_and_the_spec_rules, refused_rows_change_nothing_and_run_nothing),
//! dhi_bootstrap.rs (fail_closed_nothing_changes_and_the_command_never_runs),
//! nsenter_lite.rs (bad_requests_are_refused_and_nothing_runs),
//! checkpoint.rs (bad_input_is_refused_before_the_command_runs).

mod common;

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use common::{applet, require_root, text, Netns, TempDir};

/// One refused invocation. In `args` and env values, `{dir}` is the row's
/// own empty directory, and the argument `{cmd}` is the command that, if it
/// ever ran, would leave `{dir}/ran`.
struct Row {
    applet: &'static str,
    args: Vec<OsString>,
    env: Vec<(&'static str, OsString)>,
    /// The bad value (or, where the refusal is of a combination, the option
    /// at fault) that the line must quote.
    needle: &'static str,
}

fn row(applet: &'static str, args: &[&str], env: &[(&'static str, &str)], needle: &'static str) -> Row {
    Row {
        applet,
        args: args.iter().map(OsString::from).collect(),
        env: env.iter().map(|(k, v)| (*k, OsString::from(v))).collect(),
        needle,
    }
}

fn not_utf8() -> OsString {
    OsString::from_vec(b"caf\xe9-\xff".to_vec())
}

fn table() -> Vec<Row> {
    let ra = "route-add";
    let db = "dhi-bootstrap";
    let du = "dropuser";
    let ns = "nsenter-lite";
    let cp = "checkpoint";
    let script = [("STARTUP_SCRIPT", "touch {dir}/ran"), ("CHECKPOINT_PATH", "{dir}/cp")];
    let with_script = |extra: &[(&'static str, &'static str)]| -> Vec<(&'static str, &'static str)> {
        script.iter().chain(extra).copied().collect()
    };
    let mut rows = vec![
        // route-add: arguments.
        row(ra, &[], &[], "missing destination"),
        row(ra, &["10.0.0.0/33", "via", "192.0.2.1"], &[], "10.0.0.0/33"),
        row(ra, &["192.0.2.0/-1", "dev", "lo"], &[], "192.0.2.0/-1"),
        row(ra, &["300.1.1.1/24", "dev", "lo"], &[], "\"300.1.1.1/24\""),
        row(ra, &[""], &[], "destination \"\""),
        row(ra, &["192.0.2.0/24"], &[], "192.0.2.0/24: says neither"),
        row(ra, &["192.0.2.1/24", "dev", "lo"], &[], "192.0.2.1/24 has host bits"),
        row(ra, &["192.0.2.0/24", "via"], &[], "via needs a value"),
        row(ra, &["192.0.2.0/24", "dev", "lo", "src"], &[], "src needs a value"),
        row(ra, &["192.0.2.0/24", "via", "192.0.2.1", "via", "192.0.2.2"], &[], "via given twice"),
        row(ra, &["192.0.2.0/24", "dev", "lo", "onlink", "onlink"], &[], "onlink given twice"),
        row(ra, &["192.0.2.0/24", "via", "2001:db8::1"], &[], "via 2001:db8::1 is IPv6"),
        row(ra, &["-6", "default", "via", "192.0.2.1"], &[], "-6"),
        row(ra, &["192.0.2.0/24", "dev", "lo", "metric", "-1"], &[], "metric \"-1\""),
        row(ra, &["192.0.2.0/24", "dev", "lo", "metric", "4294967296"], &[], "\"4294967296\""),
        row(ra, &["192.0.2.0/24", "dev", "lo", "metric", "010"], &[], "metric \"010\""),
        row(ra, &["192.0.2.0/24", "dev", "lo", "table", "0"], &[], "table \"0\""),
        row(ra, &["192.0.2.0/24", "dev", "lo", "table", "bogus"], &[], "table \"bogus\""),
        row(ra, &["192.0.2.0/24", "dev", "lo", "mtu", "10"], &[], "mtu \"10\""),
        row(ra, &["192.0.2.0/24", "mtu", "99999999999", "dev", "lo"], &[], "\"99999999999\""),
        row(ra, &["192.0.2.0/24", "dev", "a/b"], &[], "dev \"a/b\""),
        row(ra, &["192.0.2.0/24", "dev", "abcdefghijklmnopq"], &[], "\"abcdefghijklmnopq\""),
        row(ra, &["192.0.2.0/24", "dev", "lo", "frobnicate"], &[], "\"frobnicate\""),
        row(ra, &["-4", "-6", "192.0.2.0/24", "dev", "lo"], &[], "-4 and -6"),
        row(ra, &["--delete", "--no-replace", "192.0.2.0/24", "dev", "lo"], &[], "--no-replace"),
        row(ra, &["--table", "5", "192.0.2.0/24", "dev", "lo"], &[], "--table"),
        row(ra, &["--list", "192.0.2.0/24"], &[], "--list"),
        row(ra, &["--list", "--table", "nosuch"], &[], "\"nosuch\""),
        row(ra, &["--bogus"], &[], "--bogus"),
        // route-add: what only the kernel knows, refused before any change.
        row(ra, &["192.0.2.0/24", "dev", "nosuchif0"], &[], "nosuchif0"),
        row(ra, &["192.0.2.0/24", "via", "198.51.100.1"], &[], "via 198.51.100.1"),
        row(ra, &["192.0.2.0/24", "src", "203.0.113.9", "dev", "lo"], &[], "src 203.0.113.9"),
        row(ra, &["--delete", "192.0.2.0/24", "dev", "lo"], &[], "192.0.2.0/24 dev lo: no such route"),
        // dhi-bootstrap: ROUTE_*, ROUTES, --route.
        row(db, &["--no-drop", "{cmd}"], &[("ROUTE_DESTINATION", "192.0.2.0/24")], "\"192.0.2.0/24\""),
        row(db, &["--no-drop", "{cmd}"], &[("ROUTE_GATEWAY", "192.0.2.1")], "\"192.0.2.1\""),
        row(db, &["--no-drop", "{cmd}"], &[("ROUTE_DESTINATION", "bad"), ("ROUTE_GATEWAY", "192.0.2.1")], "\"bad\""),
        row(
            db,
            &["--no-drop", "{cmd}"],
            &[("ROUTE_DESTINATION", "192.0.2.0/24"), ("ROUTE_GATEWAY", "notanip")],
            "\"notanip\"",
        ),
        // The first route is good: fail closed means it is not set either.
        row(db, &["--no-drop", "{cmd}"], &[("ROUTES", "192.0.2.0/24 dev lo; 198.51.100.0/24 dev nosuch0")], "nosuch0"),
        row(db, &["--no-drop", "{cmd}"], &[("ROUTES", "192.0.2.0/24 dev lo;garbage")], "\"garbage\""),
        row(db, &["--no-drop", "{cmd}"], &[("ROUTES", "-4 2001:db8::/32 dev lo")], "2001:db8::/32 is IPv6"),
        row(db, &["--no-drop", "{cmd}"], &[("ROUTES", "192.0.2.0/24 via 198.51.100.1")], "via 198.51.100.1"),
        row(db, &["--no-drop", "{cmd}"], &[("ROUTES", "192.0.2.0/24 dev lo metric 1x")], "metric \"1x\""),
        row(db, &["--no-drop", "--route", "192.0.2.0/24", "{cmd}"], &[], "route \"192.0.2.0/24\""),
        row(db, &["--no-drop", "--route", "", "{cmd}"], &[], "route \"\""),
        row(db, &["--no-drop", "--route", "192.0.2.0/24 dev lo table x", "{cmd}"], &[], "table \"x\""),
        // dhi-bootstrap: DROP_TO_USER, --user, --keep-caps.
        row(db, &["{cmd}"], &[("DROP_TO_USER", "nosuchuser")], "\"nosuchuser\""),
        row(db, &["{cmd}"], &[("DROP_TO_USER", "root")], "refusing to drop to root"),
        row(db, &["{cmd}"], &[("DROP_TO_USER", "0:0")], "0:0"),
        row(db, &["{cmd}"], &[("DROP_TO_USER", "a:b:c")], "\"a:b:c\""),
        row(db, &["{cmd}"], &[("DROP_TO_USER", "-1")], "\"-1\""),
        row(db, &["{cmd}"], &[("DROP_TO_USER", "nobody:nosuchgroup")], "\"nosuchgroup\""),
        row(db, &["{cmd}"], &[("DROP_TO_USER", "99999999999")], "\"99999999999\""),
        row(db, &["{cmd}"], &[("DROP_TO_USER", "nob ody")], "\"nob ody\""),
        row(db, &["--user", "", "{cmd}"], &[], "\"\""),
        row(db, &["--user", "nobody", "--keep-caps", "CAP_BOGUS", "{cmd}"], &[], "\"CAP_BOGUS\""),
        // The capability list is at fault, not the user it came with.
        row(db, &["--keep-caps", "", "{cmd}"], &[("DROP_TO_USER", "nobody")], "capability list \"\": empty name"),
        row(db, &["--no-drop", "--user", "x", "{cmd}"], &[], "--user x"),
        row(db, &["--no-drop", "--keep-caps", "chown", "{cmd}"], &[], "--keep-caps chown"),
        row(db, &["--init", "--exec", "{cmd}"], &[], "--init and --exec"),
        row(db, &["--no-drop"], &[], "no command"),
        row(db, &["--no-drop", "--bogus", "{cmd}"], &[], "--bogus"),
        // dhi-bootstrap: --expand-env expressions.
        row(db, &["--no-drop", "--expand-env", "{cmd}", "${X"], &[], "\"${X\""),
        row(db, &["--no-drop", "--expand-env", "{cmd}", "${1abc}"], &[], "\"${1abc}\""),
        row(db, &["--no-drop", "--expand-env", "{cmd}", "a$"], &[], "\"a$\""),
        row(db, &["--no-drop", "--expand-env", "{cmd}", "${X:+y}"], &[], "\"${X:+y}\""),
        row(
            db,
            &[
                "--no-drop",
                "--expand-env",
                "{cmd}",
                "${A-${A-${A-${A-${A-${A-${A-${A-${A-${A-${A-${A-${A-${A-${A-${A-${A-x}}}}}}}}}}}}}}}}}",
            ],
            &[],
            "nested deeper than 16",
        ),
        row(db, &["--no-drop", "--expand-env", "{cmd}", "${}"], &[], "\"${}\""),
        row(db, &["--no-drop", "--expand-env", "{cmd}", "$(id)"], &[], "\"$(id)\""),
        row(db, &["--no-drop", "--expand-env", "{cmd}", "${X:-${Y}"], &[], "\"${X:-${Y}\""),
        row(db, &["--no-drop", "--expand-env", "{cmd}", "${PORT:?set PORT}"], &[], "set PORT"),
        row(db, &["--no-drop", "--expand-env", "{cmd}", "${E:?empty}"], &[("E", "")], "empty"),
        // dropuser: user specs and options.
        row(du, &[], &[], "USER[:GROUP]"),
        row(du, &["nosuchuser", "{cmd}"], &[], "\"nosuchuser\""),
        row(du, &["nobody:nosuchgroup", "{cmd}"], &[], "\"nosuchgroup\""),
        row(du, &["a:b:c", "{cmd}"], &[], "\"a:b:c\""),
        row(du, &["--", "-5", "{cmd}"], &[], "\"-5\""),
        row(du, &["+5", "{cmd}"], &[], "\"+5\""),
        row(du, &["99999999999", "{cmd}"], &[], "\"99999999999\""),
        row(du, &["1000:99999999999", "{cmd}"], &[], "\"1000:99999999999\""),
        row(du, &["", "{cmd}"], &[], "\"\""),
        row(du, &["nobody:", "{cmd}"], &[], "\"nobody:\""),
        row(du, &[":nogroup", "{cmd}"], &[], "\":nogroup\""),
        row(du, &["nob\tody", "{cmd}"], &[], "\"nob\\tody\""),
        row(du, &["nobody"], &[], "no command"),
        row(du, &["root", "{cmd}"], &[], "root (uid 0)"),
        row(du, &["0:0", "{cmd}"], &[], "(uid 0)"),
        row(du, &["--keep-caps", "bogus", "nobody", "{cmd}"], &[], "\"bogus\""),
        row(du, &["--groups", "nosuchgrp", "nobody", "{cmd}"], &[], "\"nosuchgrp\""),
        row(du, &["--groups", "1,,2", "nobody", "{cmd}"], &[], "\"1,,2\""),
        row(du, &["--bogus", "nobody", "{cmd}"], &[], "--bogus"),
        // nsenter-lite: PIDs and namespace flags.
        row(ns, &[], &[], "-t PID"),
        row(ns, &["-n", "{cmd}"], &[], "-t PID"),
        row(ns, &["-t", "abc", "-n", "{cmd}"], &[], "\"abc\""),
        row(ns, &["-t", "0", "-n", "{cmd}"], &[], "\"0\""),
        row(ns, &["-t", "-1", "-n", "{cmd}"], &[], "\"-1\""),
        row(ns, &["-t", "99999999999", "-n", "{cmd}"], &[], "\"99999999999\""),
        row(ns, &["-t", " 5", "-n", "{cmd}"], &[], "\" 5\""),
        row(ns, &["-t", "1e3", "-n", "{cmd}"], &[], "\"1e3\""),
        row(ns, &["-t", "0x10", "-n", "{cmd}"], &[], "\"0x10\""),
        row(ns, &["--target=", "-n", "{cmd}"], &[], "\"\""),
        row(ns, &["-t"], &[], "'-t'"),
        row(ns, &["-t", "1", "-t", "2", "-n", "{cmd}"], &[], "'-t'"),
        row(ns, &["-t", "1", "{cmd}"], &[], "no namespace selected"),
        row(ns, &["-t", "1", "-Z", "{cmd}"], &[], "-Z"),
        row(ns, &["-t1", "-nZ", "{cmd}"], &[], "-Z"),
        row(ns, &["-t", "1", "-n-p", "{cmd}"], &[], "-n-p"),
        row(ns, &["-t", "1", "-n", "--bogus", "{cmd}"], &[], "--bogus"),
        row(ns, &["-t", "2147483647", "-n", "{cmd}"], &[], "2147483647"),
        // checkpoint: arguments.
        row(cp, &["--path", "{dir}/cp"], &[], "no command"),
        row(cp, &["--remove"], &[], "give --path"),
        row(cp, &["--path", "{dir}/cp", "--status", "--remove"], &[], "--status and --remove"),
        row(cp, &["--path", "{dir}/cp", "--target", "1", "--root", "{dir}", "{cmd}"], &[], "--target and --root"),
        row(cp, &["--path", "{dir}/cp", "--target", "0", "{cmd}"], &[], "--target 0"),
        row(cp, &["--path", "{dir}/cp", "--target", "-5", "{cmd}"], &[], "'--target' with value '-5'"),
        row(cp, &["--path", "{dir}/cp", "--target", "+5", "{cmd}"], &[], "'--target' with value '+5'"),
        row(cp, &["--path", "{dir}/cp", "--interval", "+30", "{cmd}"], &[], "'--interval' with value '+30'"),
        row(cp, &["--path", "{dir}/cp", "--interval", "99999999999", "{cmd}"], &[], "--interval 99999999999"),
        row(cp, &["--path", "{dir}/cp", "--target", "2147483647", "{cmd}"], &[], "--target 2147483647"),
        row(cp, &["--path", "{dir}/cp", "--interval", "0", "{cmd}"], &[], "--interval 0"),
        row(cp, &["--path", "{dir}/cp", "--interval", "abc", "{cmd}"], &[], "'abc'"),
        row(
            cp,
            &["--path", "{dir}/cp", "--interval", "99999999999999999999999", "{cmd}"],
            &[],
            "'99999999999999999999999'",
        ),
        row(cp, &["--path", "{dir}/cp", "--status", "--interval", "5"], &[], "--interval"),
        row(cp, &["--path", "", "{cmd}"], &[], "\"\": not a file name"),
        row(cp, &["--path", "{dir}/missing/cp", "{cmd}"], &[], "{dir}/missing does not exist"),
        row(cp, &["--path", "{dir}", "{cmd}"], &[], "{dir}: is a directory"),
        row(cp, &["--root", "{dir}/nosuchdir", "--path", "/cp", "{cmd}"], &[], "--root {dir}/nosuchdir"),
        row(cp, &["--path", "{dir}/cp", "--bogus", "{cmd}"], &[], "--bogus"),
        // checkpoint: STARTUP_SCRIPT, CHECKPOINT_*.
        row(cp, &[], &with_script(&[("CHECKPOINT_INTERVAL", "abc")]), "CHECKPOINT_INTERVAL=abc"),
        row(cp, &[], &with_script(&[("CHECKPOINT_INTERVAL", "-5")]), "CHECKPOINT_INTERVAL=-5"),
        row(cp, &[], &with_script(&[("CHECKPOINT_INTERVAL", "0")]), "CHECKPOINT_INTERVAL=0"),
        row(cp, &[], &with_script(&[("CHECKPOINT_INTERVAL", "18446744073709551615")]), "18446744073709551615"),
        row(cp, &["--root", "{dir}"], &with_script(&[]), "--root"),
        row(cp, &["--target", "2147483647"], &with_script(&[]), "2147483647"),
        // dhi-bootstrap: the init's stop steps, --term-delay, --map-exit, --stop-grace.
        row(db, &["--init", "--no-drop", "--term-delay", "5", "{cmd}"], &[], "--term-delay \"5\": time unit"),
        row(db, &["--init", "--no-drop", "--term-delay", "soon", "{cmd}"], &[], "--term-delay \"soon\""),
        row(db, &["--init", "--no-drop", "--term-delay", "25h", "{cmd}"], &[], "at most 24h"),
        row(db, &["--init", "--no-drop", "{cmd}"], &[("TERM_DELAY", "2")], "TERM_DELAY \"2\""),
        row(db, &["--init", "--no-drop", "--stop-grace", "-1s", "{cmd}"], &[], "--stop-grace \"-1s\""),
        row(db, &["--init", "--no-drop", "{cmd}"], &[("STOP_GRACE", "5")], "STOP_GRACE \"5\""),
        row(db, &["--init", "--no-drop", "--map-exit", "143", "{cmd}"], &[], "\"143\" is not FROM=TO"),
        row(db, &["--init", "--no-drop", "--map-exit", "143=256", "{cmd}"], &[], "\"256\" is not a status"),
        row(db, &["--init", "--no-drop", "--map-exit", "1=0,1=2", "{cmd}"], &[], "1 is mapped twice"),
        row(db, &["--init", "--no-drop", "--map-exit", "", "{cmd}"], &[], "--map-exit \"\""),
        row(db, &["--init", "--no-drop", "{cmd}"], &[("MAP_EXIT", "x=1")], "MAP_EXIT \"x=1\""),
        row(db, &["--exec", "--no-drop", "--map-exit", "143=0", "{cmd}"], &[], "--exec leaves no init"),
        row(db, &["--exec", "--no-drop", "--term-delay", "2s", "{cmd}"], &[], "--term-delay (or TERM_DELAY)"),
        row(db, &["--no-drop", "--map-exit", "143=0", "{cmd}"], &[], "not PID 1 (add --init)"),
        // hardbox itself.
        row("hardbox", &["nosuchapplet"], &[], "'nosuchapplet'"),
        // dhi-bootstrap's entrypoint steps (issue 15): --file-env, FILE_ENV.
        row(db, &["--no-drop", "--file-env", "", "{cmd}"], &[], "--file-env \"\""),
        row(db, &["--no-drop", "--file-env", "1PW", "{cmd}"], &[], "\"1PW\" is not a variable name"),
        row(db, &["--no-drop", "--file-env", "PW,PW", "{cmd}"], &[], "PW given twice"),
        row(db, &["--no-drop", "{cmd}"], &[("FILE_ENV", "PW,")], "FILE_ENV \"PW,\""),
        row(db, &["--no-drop", "--file-env", "PW", "{cmd}"], &[("PW", "x"), ("PW_FILE", "/etc/hostname")], "both PW"),
        row(db, &["--no-drop", "{cmd}"], &[("FILE_ENV", "PW"), ("PW_FILE", "{dir}/none")], "PW_FILE=\"{dir}/none\""),
        row(db, &["--no-drop", "--file-env", "PW", "{cmd}"], &[("PW_FILE", "{dir}")], "not a regular file"),
        // --umask, UMASK.
        row(db, &["--no-drop", "--umask", "0o27", "{cmd}"], &[], "--umask \"0o27\""),
        row(db, &["--no-drop", "--umask", "1027", "{cmd}"], &[], "\"1027\": expected an octal mode"),
        row(db, &["--no-drop", "--umask", "", "{cmd}"], &[], "--umask \"\""),
        row(db, &["--no-drop", "{cmd}"], &[("UMASK", "8")], "UMASK \"8\""),
        // --rlimit, RLIMITS: nothing is set, the command never runs.
        row(db, &["--no-drop", "--rlimit", "files=5", "{cmd}"], &[], "\"files=5\" names no limit"),
        row(db, &["--no-drop", "--rlimit", "nofile=5:4", "{cmd}"], &[], "soft limit above its hard limit"),
        row(db, &["--no-drop", "--rlimit", "nofile=-1", "{cmd}"], &[], "\"nofile=-1\""),
        row(db, &["--no-drop", "--rlimit", "core=0", "--rlimit", "core=1", "{cmd}"], &[], "given before"),
        row(db, &["--no-drop", "--rlimit", "nofile", "{cmd}"], &[], "\"nofile\" is not NAME=SOFT[:HARD]"),
        row(db, &["--no-drop", "--rlimit", "nofile=:", "{cmd}"], &[], "sets neither"),
        row(db, &["--no-drop", "--rlimit", "core=0,nofile=unlimited", "{cmd}"], &[], "nofile=unlimited:unlimited"),
        row(db, &["--no-drop", "{cmd}"], &[("RLIMITS", "nofile=1,")], "RLIMITS \"nofile=1,\""),
        // --own, OWN_PATHS: the row's directory stays root's.
        row(db, &["--no-drop", "--own", "{dir}/missing:1:1", "{cmd}"], &[], "{dir}/missing\": no such file"),
        row(db, &["--own", "{dir}/missing", "{cmd}"], &[("DROP_TO_USER", "nobody")], "no such file"),
        row(db, &["--no-drop", "--own", "{dir}", "{cmd}"], &[], "with --no-drop name the owner"),
        row(db, &["--no-drop", "--own", "relative:1:1", "{cmd}"], &[], "\"relative:1:1\": the path must be absolute"),
        row(db, &["--no-drop", "--own", "", "{cmd}"], &[], "--own \"\""),
        row(db, &["--no-drop", "--own", "{dir}:1:1", "--own", "{dir}/no", "{cmd}"], &[], "{dir}/no"),
        row(db, &["--own", "{dir}", "--user", "nosuchuser", "{cmd}"], &[], "\"nosuchuser\""),
        row(db, &["--no-drop", "--own", "{dir}:1:1", "{cmd}"], &[("ROUTES", "192.0.2.0/24 dev nosuch0")], "nosuch0"),
        row(db, &["--no-drop", "{cmd}"], &[("OWN_PATHS", "{dir}:1:1;{dir}/gone:1:1")], "OWN_PATHS \"{dir}/gone\""),
        row(db, &["--no-drop", "{cmd}"], &[("OWN_PATHS", "{dir}:1:1"), ("UMASK", "9")], "UMASK \"9\""),
        // inspect: PIDs and flags (a PID that does not exist is exit 1, in tests/inspect.rs).
        row("inspect", &["0"], &[], "\"0\""),
        row("inspect", &["-1"], &[], "-1"),
        row("inspect", &["+1"], &[], "\"+1\""),
        row("inspect", &["abc"], &[], "\"abc\""),
        row("inspect", &["1x"], &[], "\"1x\""),
        row("inspect", &[" 1"], &[], "\" 1\""),
        row("inspect", &["99999999999"], &[], "\"99999999999\""),
        row("inspect", &["1", "2"], &[], "argument: 2"),
        row("inspect", &["--bogus"], &[], "--bogus"),
        row("inspect", &["--env=yes"], &[], "--env=yes"),
    ];
    // Non-UTF-8 arguments and configuration values are refused by name.
    let bad = not_utf8;
    let mut odd = |applet: &'static str, args: Vec<OsString>, env: Vec<(&'static str, OsString)>, needle| {
        rows.push(Row { applet, args, env, needle });
    };
    let s = |text: &str| OsString::from(text);
    odd(ra, vec![s("192.0.2.0/24"), s("dev"), bad()], vec![], "not valid UTF-8");
    odd(du, vec![bad(), s("{cmd}")], vec![], "not valid UTF-8");
    odd(ns, vec![s("-t"), bad(), s("-n"), s("{cmd}")], vec![], "not valid UTF-8");
    odd(cp, vec![s("--path"), bad(), s("{cmd}")], vec![], "not valid UTF-8");
    odd(db, vec![s("--no-drop"), s("{cmd}"), bad()], vec![], "not valid UTF-8");
    odd(db, vec![s("--no-drop"), s("{cmd}")], vec![("ROUTES", bad())], "ROUTES");
    odd(
        db,
        vec![s("--no-drop"), s("{cmd}")],
        vec![("ROUTE_DESTINATION", bad()), ("ROUTE_GATEWAY", s("192.0.2.1"))],
        "ROUTE_DESTINATION",
    );
    odd(db, vec![s("{cmd}")], vec![("DROP_TO_USER", bad())], "DROP_TO_USER");
    odd(db, vec![s("--no-drop"), s("--expand-env"), s("{cmd}"), s("$X")], vec![("X", bad())], "$X");
    odd(cp, vec![], vec![("STARTUP_SCRIPT", bad()), ("CHECKPOINT_PATH", s("{dir}/cp"))], "STARTUP_SCRIPT");
    odd(cp, vec![], vec![("STARTUP_SCRIPT", s("touch {dir}/ran")), ("CHECKPOINT_PATH", bad())], "CHECKPOINT_PATH");
    let with = |name: &'static str| {
        vec![("STARTUP_SCRIPT", s("touch {dir}/ran")), ("CHECKPOINT_PATH", s("{dir}/cp")), (name, bad())]
    };
    odd(cp, vec![], with("CHECKPOINT_INTERVAL"), "CHECKPOINT_INTERVAL");
    // dhi-bootstrap's entrypoint steps (issue 15).
    odd(db, vec![s("--no-drop"), s("{cmd}")], vec![("FILE_ENV", bad())], "FILE_ENV");
    odd(db, vec![s("--no-drop"), s("--file-env"), s("PW"), s("{cmd}")], vec![("PW_FILE", bad())], "PW_FILE");
    odd(db, vec![s("--no-drop"), s("{cmd}")], vec![("UMASK", bad())], "UMASK");
    odd(db, vec![s("--no-drop"), s("{cmd}")], vec![("RLIMITS", bad())], "RLIMITS");
    odd(db, vec![s("--no-drop"), s("{cmd}")], vec![("OWN_PATHS", bad())], "OWN_PATHS");
    odd(db, vec![s("--no-drop"), s("--own"), bad(), s("{cmd}")], vec![], "not valid UTF-8");
    // dhi-bootstrap: the init's stop steps.
    odd(db, vec![s("--init"), s("--no-drop"), s("{cmd}")], vec![("TERM_DELAY", bad())], "TERM_DELAY");
    // hardening (issues 16.1, 18.4): a bare `help` is a word like any
    // other (a bad route here, not the usage); --expand-env is bounded as
    // exec bounds it, one argument and the whole command.
    odd(ra, vec![s("help")], vec![], "destination \"help\"");
    odd(ra, vec![s("help"), s("x")], vec![], "\"x\" after help");
    let big = || s(&"x".repeat(100_000));
    let expand = |words: Vec<OsString>| [vec![s("--no-drop"), s("--expand-env"), s("{cmd}")], words].concat();
    odd(db, expand(vec![s(&"$X".repeat(30_000))]), vec![("X", big())], "more than 131071 bytes");
    odd(db, expand(vec![s("$X"); 21]), vec![("X", big())], "exec's ARG_MAX");
    // hardening (issue 18.10): a value holding a newline is escaped, so
    // the refusal stays one line (assert: one line, the escaped value).
    odd(cp, vec![s("--path"), s("{dir}/a\nforged: b/cp"), s("{cmd}")], vec![], "a\\nforged: b does not exist");
    odd(du, vec![s("no\nbody"), s("{cmd}")], vec![], "no\\nbody");
    odd(db, vec![s("--user"), s("no\r\u{1b}body"), s("{cmd}")], vec![], "no\\r\\u{1b}body");
    // probe (issue 14): every malformed TARGET, duration, range and header,
    // and options no target can use; refused before any connection.
    let pr = "probe";
    let up = "http://127.0.0.1:1/";
    rows.extend([
        row(pr, &[], &[], "no target given"),
        row(pr, &["localhost:8080"], &[], "target \"localhost:8080\": no scheme"),
        row(pr, &["https://127.0.0.1/healthz"], &[], "no TLS stack"),
        row(pr, &["ftp://127.0.0.1/"], &[], "unknown scheme \"ftp\""),
        row(pr, &["HTTP://127.0.0.1/"], &[], "unknown scheme \"HTTP\""),
        row(pr, &["http://"], &[], "target \"http://\": no host"),
        row(pr, &["http://:8080/"], &[], "no host"),
        row(pr, &["http://127.0.0.1:0/"], &[], "port \"0\""),
        row(pr, &["http://127.0.0.1:65536/"], &[], "port \"65536\""),
        row(pr, &["http://127.0.0.1:http/"], &[], "port \"http\""),
        row(pr, &["http://::1/"], &[], "brackets"),
        row(pr, &["http://[::1/"], &[], "not closed"),
        row(pr, &["http://[::1]x/"], &[], "want :PORT"),
        row(pr, &["http://[1.2.3.4]/"], &[], "not an IPv6 address"),
        row(pr, &["http://user:pw@127.0.0.1/"], &[], "credentials"),
        row(pr, &["http://127.0.0.1/a b"], &[], "a space"),
        row(pr, &["http://127.0.0.1/\r\nX: y"], &[], "control character"),
        row(pr, &["http://127.0.0.1/#top"], &[], "fragment"),
        row(pr, &["http://bad..name/"], &[], "\"bad..name\" is neither"),
        row(pr, &["tcp://127.0.0.1"], &[], "no port"),
        row(pr, &["tcp://127.0.0.1:5432/db"], &[], "tcp:// takes no path"),
        row(pr, &["unix://run/app.sock"], &[], "absolute socket path"),
        row(pr, &["unix://"], &[], "absolute socket path"),
        row(pr, &["file://run/ready"], &[], "absolute path"),
        row(pr, &[up, "tcp://x"], &[], "target \"tcp://x\""),
        row(pr, &["--timeout", "5x", up], &[], "--timeout \"5x\""),
        row(pr, &["--timeout", "0", up], &[], "--timeout \"0\": must be more than 0"),
        row(pr, &["--timeout", "-1s", up], &[], "--timeout \"-1s\""),
        row(pr, &["--timeout", "", up], &[], "--timeout \"\""),
        row(pr, &["--wait", "forever", up], &[], "--wait \"forever\""),
        row(pr, &["--wait", "9999999999s", up], &[], "longer than a year"),
        row(pr, &["--every", "1s", up], &[], "--every belongs to --wait"),
        row(pr, &["--wait", "5s", "--every", "0ms", up], &[], "--every \"0ms\""),
        row(pr, &["--status", "2xx", up], &[], "--status \"2xx\""),
        row(pr, &["--status", "399-200", up], &[], "runs backwards"),
        row(pr, &["--status", "200,", up], &[], "--status \"200,\""),
        row(pr, &["--status", "99", up], &[], "\"99\" is not a status code"),
        row(pr, &["--header", "NoColon", up], &[], "--header \"NoColon\": no colon"),
        row(pr, &["--header", "Bad Name: v", up], &[], "\"Bad Name\" is not a header name"),
        row(pr, &["--method", "POST", up], &[], "--method \"POST\""),
        row(pr, &["--send", "PING", up], &[], "--send: only for tcp://"),
        row(pr, &["--send", "a\nb", "tcp://127.0.0.1:1"], &[], "without line breaks"),
        row(pr, &["--max-age", "1s", up], &[], "--max-age: only for file://"),
        row(pr, &["--max-age", "old", "file:///etc/hostname"], &[], "--max-age \"old\""),
        row(pr, &["--status", "200", "tcp://127.0.0.1:1"], &[], "--status, --header and --method: only for http://"),
        row(pr, &["--expand-env", "http://${HOST"], &[], "\"http://${HOST\""),
        row(pr, &["--expand-env", "http://${HOST:?set HOST}/"], &[], "set HOST"),
        row(pr, &["--bogus", up], &[], "--bogus"),
        row(pr, &[up, "help"], &[], "target \"help\": no scheme"),
        row(pr, &["--timeout", "1s", "help"], &[], "target \"help\""),
        row(db, &["--no-drop", "--wait-for", "localhost:80", "{cmd}"], &[], "target \"localhost:80\": no scheme"),
        row(db, &["--no-drop", "--wait-for", "https://x/", "{cmd}"], &[], "no TLS stack"),
        row(db, &["--no-drop", "--wait-for", up, "--wait-timeout", "soon", "{cmd}"], &[], "--wait-timeout \"soon\""),
    ]);
    rows
}

/// `{dir}` replaced, as bytes, so that non-UTF-8 values pass through whole.
fn fill(value: &OsString, dir: &Path) -> OsString {
    let dir = dir.as_os_str().as_encoded_bytes();
    let bytes = value.as_encoded_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at..].starts_with(b"{dir}") {
            out.extend_from_slice(dir);
            at += 5;
        } else {
            out.push(bytes[at]);
            at += 1;
        }
    }
    OsString::from_vec(out)
}

/// Runs an applet in the namespace with only PATH and the given variables.
fn run_in(ns: &Netns, applet_name: &str, args: &[OsString], env: &[(&str, OsString)]) -> Output {
    let mut cmd = Command::new("ip");
    cmd.env_clear().env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").args(["netns", "exec", &ns.name]);
    cmd.arg(applet(applet_name)).args(args);
    for (name, value) in env {
        cmd.env(name, value);
    }
    cmd.output().expect("run ip netns exec")
}

fn row_dir() -> TempDir {
    // World-writable, so that a command wrongly run as nobody could still
    // leave its marker: its absence then proves it never ran.
    let dir = TempDir::new("bad-input");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).expect("chmod row dir");
    dir
}

/// A namespace with lo up and a veth pair carrying 203.0.113.1/24, so that
/// a route via 203.0.113.2 would be accepted: the rows must fail on their
/// own fault, not on an empty namespace.
fn lab() -> Netns {
    let ns = Netns::new();
    ns.sh("sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 && \
         ip link add hb0 type veth peer name hb1 && ip link set hb1 up && ip link set hb0 up && \
         ip addr add 203.0.113.1/24 dev hb0");
    // The kernel adds the links' IPv6 link-local routes a moment later:
    // wait for them, or the table would change under the comparison.
    for _ in 0..250 {
        if ns.sh("ip -6 route show table local").matches("local fe80::").count() == 2 {
            return ns;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("the namespace's IPv6 routes never settled: {}", ns.routes());
}

#[test]
fn every_row_is_refused_in_one_line_and_changes_nothing() {
    if !require_root("every_row_is_refused_in_one_line_and_changes_nothing") {
        return;
    }
    let rows = table();
    assert!(rows.len() >= 80, "the table holds {} rows; issue 9 asks for at least 80", rows.len());
    let ns = lab();
    let before = ns.routes();
    let mut failures = Vec::new();
    for row in &rows {
        let dir = row_dir();
        let mut args = Vec::new();
        for arg in &row.args {
            if arg == "{cmd}" {
                args.extend([OsString::from("touch"), dir.path().join("ran").into_os_string()]);
            } else {
                args.push(fill(arg, dir.path()));
            }
        }
        let env: Vec<(&str, OsString)> = row.env.iter().map(|(k, v)| (*k, fill(v, dir.path()))).collect();
        let out = run_in(&ns, row.applet, &args, &env);
        let (stdout, stderr) = text(&out);
        let needle = row.needle.replace("{dir}", &dir.path().display().to_string());
        let lines: Vec<&str> = stderr.lines().collect();
        let mut wrong = Vec::new();
        if out.status.code() != Some(125) {
            wrong.push(format!("exit {:?}, want 125", out.status.code()));
        }
        if lines.len() != 1 || !lines[0].starts_with(&format!("{}: ", row.applet)) {
            wrong.push("want exactly one stderr line starting with the applet".to_string());
        }
        if !stderr.contains(&needle) {
            wrong.push(format!("the line does not quote {needle:?}"));
        }
        if stderr.contains("panicked") {
            wrong.push("panicked".to_string());
        }
        if !stdout.is_empty() {
            wrong.push(format!("stdout: {stdout:?}"));
        }
        let left: Vec<_> =
            std::fs::read_dir(dir.path()).expect("read row dir").flatten().map(|e| e.file_name()).collect();
        if !left.is_empty() {
            wrong.push(format!("left behind (command run or checkpoint made): {left:?}"));
        }
        if std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(dir.path()).expect("stat row dir")) != 0 {
            wrong.push("the row's directory was given away (--own)".to_string());
        }
        let now = ns.routes();
        if now != before {
            wrong.push(format!("the routing table changed: {now}"));
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "{} {:?} env {:?}: {}; stderr {stderr:?}",
                row.applet,
                row.args,
                row.env,
                wrong.join("; ")
            ));
        }
    }
    eprintln!("bad input: {} rows refused", rows.len());
    assert!(failures.is_empty(), "{} of {} rows wrong:\n{}", failures.len(), rows.len(), failures.join("\n"));
}

/// An applet, its arguments and its environment.
type Invocation<'a> = (&'a str, Vec<OsString>, Vec<(&'a str, OsString)>);

/// A small deterministic generator (xorshift), so that a failure replays.
struct Junk(u64);

impl Junk {
    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len)
            .map(|_| {
                self.0 ^= self.0 << 13;
                self.0 ^= self.0 >> 7;
                self.0 ^= self.0 << 17;
                // NUL-free: NUL cannot cross execve.
                (self.0 % 255) as u8 + 1
            })
            .collect()
    }
}

/// The largest single argument or environment string the kernel passes
/// (MAX_ARG_STRLEN, 32 pages, with its NUL): a 1 MiB argument cannot be
/// exec'd at all, so "1 MiB of arguments" is eight of these.
const MAX_ARG: usize = 32 * 4096 - 1;

fn junk_values(seed: u64) -> Vec<(String, OsString)> {
    let mut junk = Junk(seed);
    vec![
        ("empty".into(), OsString::new()),
        ("not UTF-8".into(), not_utf8()),
        ("binary junk".into(), OsString::from_vec(junk.bytes(200))),
        ("long junk".into(), OsString::from_vec(junk.bytes(4096))),
        ("largest argument".into(), OsString::from("7".repeat(MAX_ARG))),
        ("largest junk".into(), OsString::from_vec(junk.bytes(MAX_ARG))),
    ]
}

/// Whatever the junk, the applet answers without a panic: it exits with a
/// status (not killed by a signal, not Rust's panic status 101), every
/// stderr line is its own, and the routing table is untouched.
fn assert_handled(out: &Output, applet: &str, what: &str) {
    let (_, stderr) = text(out);
    let code = out.status.code();
    assert!(code.is_some() && code != Some(101), "{applet} with {what}: status {:?}; stderr {stderr:.300}", out.status);
    assert!(!stderr.contains("panicked"), "{applet} with {what}: {stderr:.300}");
    for line in stderr.lines() {
        assert!(line.starts_with(&format!("{applet}: ")), "{applet} with {what}: stray line {line:.300}");
    }
}

#[test]
fn junk_in_every_argument_and_variable_never_panics() {
    if !require_root("junk_in_every_argument_and_variable_never_panics") {
        return;
    }
    let ns = lab();
    let before = ns.routes();
    let dir = row_dir();
    let marker = dir.path().join("ran");
    let touch = || vec![OsString::from("touch"), marker.clone().into_os_string()];
    let mut tried = 0;
    for (what, junk) in junk_values(0x9e37_79b9_7f4a_7c15) {
        let j = || junk.clone();
        // An environment string is NAME=VALUE, all within the same limit.
        let je = |name: &str| {
            let room = MAX_ARG - name.len() - 1;
            OsString::from_vec(junk.as_encoded_bytes().iter().take(room).copied().collect())
        };
        let s = |text: &str| OsString::from(text);
        // Junk where a value goes: each must be refused (125), and nothing runs.
        let refused: Vec<Invocation> = vec![
            ("route-add", vec![j()], vec![]),
            ("route-add", vec![s("192.0.2.0/24"), s("via"), j()], vec![]),
            ("route-add", vec![s("192.0.2.0/24"), s("dev"), j()], vec![]),
            ("route-add", vec![s("192.0.2.0/24"), s("dev"), s("lo"), s("metric"), j()], vec![]),
            ("route-add", vec![s("--list"), s("--table"), j()], vec![]),
            ("dropuser", [vec![j()], touch()].concat(), vec![]),
            ("dropuser", [vec![s("--groups"), j(), s("nobody")], touch()].concat(), vec![]),
            ("dropuser", [vec![s("--keep-caps"), j(), s("nobody")], touch()].concat(), vec![]),
            ("nsenter-lite", [vec![s("-t"), j(), s("-n")], touch()].concat(), vec![]),
            ("dhi-bootstrap", [vec![s("--no-drop")], touch()].concat(), vec![("ROUTES", je("ROUTES"))]),
            (
                "dhi-bootstrap",
                [vec![s("--no-drop")], touch()].concat(),
                vec![("ROUTE_DESTINATION", je("ROUTE_DESTINATION")), ("ROUTE_GATEWAY", s("203.0.113.2"))],
            ),
            (
                "dhi-bootstrap",
                [vec![s("--no-drop")], touch()].concat(),
                vec![("ROUTE_DESTINATION", s("192.0.2.0/24")), ("ROUTE_GATEWAY", je("ROUTE_GATEWAY"))],
            ),
            ("dhi-bootstrap", [vec![s("--no-drop"), s("--route"), j()], touch()].concat(), vec![]),
            ("dhi-bootstrap", touch(), vec![("DROP_TO_USER", je("DROP_TO_USER"))]),
            ("dhi-bootstrap", [vec![s("--user"), j()], touch()].concat(), vec![]),
            // dhi-bootstrap's entrypoint steps (issue 15).
            ("dhi-bootstrap", [vec![s("--no-drop"), s("--file-env"), j()], touch()].concat(), vec![]),
            ("dhi-bootstrap", [vec![s("--no-drop"), s("--umask"), j()], touch()].concat(), vec![]),
            ("dhi-bootstrap", [vec![s("--no-drop"), s("--rlimit"), j()], touch()].concat(), vec![]),
            ("dhi-bootstrap", [vec![s("--no-drop"), s("--own"), j()], touch()].concat(), vec![]),
            ("dhi-bootstrap", [vec![s("--no-drop")], touch()].concat(), vec![("FILE_ENV", je("FILE_ENV"))]),
            ("dhi-bootstrap", [vec![s("--no-drop")], touch()].concat(), vec![("UMASK", je("UMASK"))]),
            ("dhi-bootstrap", [vec![s("--no-drop")], touch()].concat(), vec![("RLIMITS", je("RLIMITS"))]),
            ("dhi-bootstrap", [vec![s("--no-drop")], touch()].concat(), vec![("OWN_PATHS", je("OWN_PATHS"))]),
            ("checkpoint", [vec![s("--path"), j()], touch()].concat(), vec![]),
            (
                "checkpoint",
                [vec![s("--path"), dir.path().join("cp").into_os_string(), s("--interval"), j()], touch()].concat(),
                vec![],
            ),
            (
                "checkpoint",
                vec![],
                vec![
                    ("STARTUP_SCRIPT", s("true")),
                    ("CHECKPOINT_PATH", dir.path().join("cp").into_os_string()),
                    ("CHECKPOINT_INTERVAL", je("CHECKPOINT_INTERVAL")),
                ],
            ),
        ];
        for (applet_name, args, env) in refused {
            // An empty ROUTES, DROP_TO_USER or interval counts as unset
            // (as in the Node package): not a refusal, so not asked here.
            if junk.is_empty() && !env.is_empty() {
                continue;
            }
            let out = run_in(&ns, applet_name, &args, &env);
            tried += 1;
            assert_handled(&out, applet_name, &what);
            assert_eq!(out.status.code(), Some(125), "{applet_name} with {what}: {:.300}", text(&out).1);
            assert!(!marker.exists(), "{applet_name} with {what}: the command ran");
        }
        // Junk anywhere else: handled, whatever the answer.
        for applet_name in ["route-add", "dropuser", "nsenter-lite", "dhi-bootstrap", "checkpoint", "hardbox"] {
            for args in [vec![j()], vec![j(), j()], vec![s("--"), j()], vec![j(); 8]] {
                // checkpoint would run the junk as its command: its files go
                // to the test's directory, not to /tmp.
                let args = match applet_name {
                    "checkpoint" => [vec![s("--path"), dir.path().join("junk").into_os_string()], args].concat(),
                    _ => args,
                };
                let out = run_in(&ns, applet_name, &args, &[("HARDBOX_LOG", je("HARDBOX_LOG"))]);
                tried += 1;
                assert_handled(&out, applet_name, &what);
            }
        }
    }
    let _ = std::fs::remove_file(&marker);
    assert_eq!(ns.routes(), before, "junk changed the routing table");
    eprintln!("junk: {tried} invocations handled");
}
