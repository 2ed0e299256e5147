//! dropuser, run as the static binary inside a `FROM scratch`-like image
//! whose /etc/passwd and /etc/group the tests write (the host's users are
//! never touched). What the command became is read by busybox from
//! /proc/$$/status of the very process dropuser exec'd.

mod common;

use std::collections::HashMap;
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::scratch::Scratch;
use common::{assert_refused, require_root, require_tool, text, Netns};

const PASSWD: &str = "\
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
games:x:5:60:games:/usr/games:/bin/false
node:x:1000:1000::/home/node:/bin/sh
multi:x:1001:1001::/home/multi:/bin/sh
orphan:x:1002:4321::/home/orphan:/bin/sh
nohome:x:1003:1003:::/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
";

// `multi` is in several groups; `orphan`'s primary group 4321 has no line;
// `nobody`'s primary group is `nogroup`, not `nobody` (the seed's failure).
const GROUP: &str = "\
root:x:0:
daemon:x:1:
audio:x:29:multi,orphan
staff:x:50:
games:x:60:
video:x:44:multi
node:x:1000:
multi:x:1001:
nogroup:x:65534:
";

/// Touches the marker given as $1 (proof that it ran), then reports.
const PROBE: &str = r#"touch "$1"
echo "uid=$(id -u)"; echo "gid=$(id -g)"; echo "idgroups=$(id -G)"
echo "home=$HOME"; echo "user=$USER"; echo "logname=$LOGNAME"
set -- $(cat /proc/$$/stat); echo "pid=$1"; echo "sid=$6"
grep -E '^(Uid|Gid|Groups|Cap[A-Za-z]+|NoNewPrivs):' /proc/$$/status"#;

fn image() -> Option<Scratch> {
    if !require_tool("dropuser image", "unshare") || !std::path::Path::new("/bin/busybox").exists() {
        return None;
    }
    let image = Scratch::new("dropuser");
    image.write("etc/passwd", PASSWD, 0o644);
    image.write("etc/group", GROUP, 0o644);
    Some(image)
}

/// The probe run through dropuser. Returns the output and whether the
/// probe ran (its marker exists).
fn probe(image: &Scratch, before: &[&str], args: &[&str]) -> (Output, bool) {
    probe_as(image, None, before, args)
}

fn probe_as(image: &Scratch, caller: Option<(u32, u32)>, before: &[&str], args: &[&str]) -> (Output, bool) {
    static N: AtomicUsize = AtomicUsize::new(0);
    let marker = format!("/tmp/ran-{}", N.fetch_add(1, Ordering::Relaxed));
    let mut argv: Vec<&str> = before.to_vec();
    argv.push("/bin/dropuser");
    argv.extend_from_slice(args);
    argv.extend_from_slice(&["/bin/sh", "-c", PROBE, "probe", &marker]);
    let out = image.command_in(None, caller, &argv).env("HOME", "/root").env("USER", "root").output().expect("unshare");
    let ran = image.path().join(&marker[1..]).exists();
    (out, ran)
}

/// `key=value` lines from the probe and `Key:\tvalue` lines from
/// /proc/PID/status.
fn report(out: &Output) -> HashMap<String, String> {
    let (stdout, _) = text(out);
    stdout
        .lines()
        .filter_map(|line| line.split_once('=').or_else(|| line.split_once(':')))
        .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))
        .collect()
}

struct Want<'a> {
    uid: u32,
    gid: u32,
    groups: &'a [u32],
    home: &'a str,
    user: &'a str,
}

/// Everything about the process, against the row: ids in all four fields,
/// the groups, every capability set equal to `caps`, no_new_privs on.
fn assert_became(row: &str, out: &Output, ran: bool, want: &Want, caps: u64) {
    let (_, err) = text(out);
    assert_eq!(out.status.code(), Some(0), "{row}: stderr {err}");
    assert!(ran, "{row}: the probe ran");
    let r = report(out);
    let field = |k: &str| r.get(k).map(String::as_str).unwrap_or_else(|| panic!("{row}: no {k} in {r:?}"));
    let ids = |k: &str| -> Vec<u32> { field(k).split_whitespace().map(|n| n.parse().expect("a number")).collect() };
    assert_eq!(ids("uid"), [want.uid], "{row}: id -u");
    assert_eq!(ids("gid"), [want.gid], "{row}: id -g");
    assert_eq!(ids("Uid"), [want.uid; 4], "{row}: Uid");
    assert_eq!(ids("Gid"), [want.gid; 4], "{row}: Gid");
    let mut groups = ids("Groups");
    groups.sort_unstable();
    assert_eq!(groups, want.groups, "{row}: Groups");
    let mut id_groups = ids("idgroups");
    id_groups.sort_unstable();
    id_groups.dedup();
    let mut expected: Vec<u32> = want.groups.iter().copied().chain([want.gid]).collect();
    expected.sort_unstable();
    expected.dedup();
    assert_eq!(id_groups, expected, "{row}: id -G");
    assert_eq!(field("home"), want.home, "{row}: HOME");
    assert_eq!(field("user"), want.user, "{row}: USER");
    assert_eq!(field("logname"), want.user, "{row}: LOGNAME");
    let caps = format!("{caps:016x}");
    for set in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        assert_eq!(field(set), caps, "{row}: {set}");
    }
    assert_eq!(field("NoNewPrivs"), "1", "{row}: NoNewPrivs");
}

#[test]
fn gosu_matrix_and_the_spec_rules() {
    if !require_root("gosu_matrix_and_the_spec_rules") {
        return;
    }
    let Some(image) = image() else { return };
    let root: &[&str] = &["--allow-root"];
    #[rustfmt::skip]
    let rows: &[(&[&str], &str, Want)] = &[
        (root, "0", Want { uid: 0, gid: 0, groups: &[0], home: "/root", user: "root" }),
        (root, "0:0", Want { uid: 0, gid: 0, groups: &[0], home: "/root", user: "root" }),
        (root, "root", Want { uid: 0, gid: 0, groups: &[0], home: "/root", user: "root" }),
        (root, "0:root", Want { uid: 0, gid: 0, groups: &[0], home: "/root", user: "root" }),
        (root, "root:0", Want { uid: 0, gid: 0, groups: &[0], home: "/root", user: "root" }),
        (root, "root:root", Want { uid: 0, gid: 0, groups: &[0], home: "/root", user: "root" }),
        (root, "0:1000", Want { uid: 0, gid: 1000, groups: &[1000], home: "/root", user: "root" }),
        (root, "root:1000", Want { uid: 0, gid: 1000, groups: &[1000], home: "/root", user: "root" }),
        (&[], "1000", Want { uid: 1000, gid: 1000, groups: &[1000], home: "/home/node", user: "node" }),
        (&[], "node", Want { uid: 1000, gid: 1000, groups: &[1000], home: "/home/node", user: "node" }),
        (&[], "1000:1000", Want { uid: 1000, gid: 1000, groups: &[1000], home: "/home/node", user: "node" }),
        (&[], "1000:root", Want { uid: 1000, gid: 0, groups: &[0], home: "/home/node", user: "node" }),
        (&[], "1000:daemon", Want { uid: 1000, gid: 1, groups: &[1], home: "/home/node", user: "node" }),
        (&[], "games", Want { uid: 5, gid: 60, groups: &[60], home: "/usr/games", user: "games" }),
        (&[], "games:daemon", Want { uid: 5, gid: 1, groups: &[1], home: "/usr/games", user: "games" }),
        (&[], "multi", Want { uid: 1001, gid: 1001, groups: &[29, 44, 1001], home: "/home/multi", user: "multi" }),
        (&[], "multi:video", Want { uid: 1001, gid: 44, groups: &[44], home: "/home/multi", user: "multi" }),
        (&[], "orphan", Want { uid: 1002, gid: 4321, groups: &[29, 4321], home: "/home/orphan", user: "orphan" }),
        // gosu runs `gosu 4242 id` as 4242:0 with groups 0.
        (&[], "nohome", Want { uid: 1003, gid: 1003, groups: &[1003], home: "/", user: "nohome" }),
        (&[], "4242", Want { uid: 4242, gid: 4242, groups: &[4242], home: "/", user: "4242" }),
        (&[], "4242:daemon", Want { uid: 4242, gid: 1, groups: &[1], home: "/", user: "4242" }),
        (&[], "4242:777", Want { uid: 4242, gid: 777, groups: &[777], home: "/", user: "4242" }),
        (&[], "007", Want { uid: 7, gid: 7, groups: &[7], home: "/", user: "7" }),
        (&["--groups", "daemon,50,9999"], "node", Want { uid: 1000, gid: 1000, groups: &[1, 50, 9999], home: "/home/node", user: "node" }),
        (&["--groups", "staff"], "4242:daemon", Want { uid: 4242, gid: 1, groups: &[50], home: "/", user: "4242" }),
    ];
    for (options, spec, want) in rows {
        let args: Vec<&str> = options.iter().copied().chain([*spec]).collect();
        let (out, ran) = probe(&image, &[], &args);
        assert_became(&args.join(" "), &out, ran, want, 0);
    }
}

#[test]
fn refused_rows_change_nothing_and_run_nothing() {
    if !require_root("refused_rows_change_nothing_and_run_nothing") {
        return;
    }
    let Some(image) = image() else { return };
    let rows: &[(&[&str], &str)] = &[
        (&["bogus"], "unknown user \"bogus\""),
        // uzers cannot tell a missing entry from an unreadable file: both said.
        (&["bogus"], "no such entry in /etc/passwd (or /etc/passwd could not be read"),
        (&["node:bogus"], "no such entry in /etc/group (or /etc/group could not be read"),
        (&["0day"], "unknown user \"0day\""),
        (&["--allow-root", "0:bogus"], "unknown group \"bogus\""),
        (&["--allow-root", "0:0day"], "unknown group \"0day\""),
        (&["node:bogus"], "unknown group \"bogus\""),
        (&["0"], "--allow-root"),
        (&["root"], "--allow-root"),
        (&["0:0"], "--allow-root"),
        (&["root:root"], "--allow-root"),
        (&["0:1000"], "--allow-root"),
        (&["+1000"], "sign"),
        (&["-1"], "Unrecognized argument: -1"),
        (&["--", "-1"], "sign"),
        (&["1000:-1"], "sign"),
        (&[" 1000"], "contains ' '"),
        (&["1000 "], "contains ' '"),
        (&[""], "empty user"),
        (&[":0"], "empty user"),
        (&["1000:"], "empty group"),
        (&["4294967295"], "out of range"),
        (&["2147483648"], "out of range"),
        (&["1:2:3"], "more than one ':'"),
        (&["--keep-caps", "bogus", "node"], "unknown capability \"bogus\""),
        (&["--keep-caps", "", "node"], "empty name"),
        (&["--keep-caps", "net_bind_service,", "node"], "empty name"),
        (&["--groups", "", "node"], "empty group"),
        (&["--groups", "bogus", "node"], "unknown group \"bogus\""),
        (&["--groups", "1,-1", "node"], "sign"),
        (&["--bogus", "node"], "--bogus"),
    ];
    for (args, needle) in rows {
        let (out, ran) = probe(&image, &[], args);
        assert_refused(&out, "dropuser", needle);
        assert!(!ran, "{args:?}: the command must not run");
    }
    let out = image.command(&["/bin/dropuser", "node"]).output().expect("unshare");
    assert_refused(&out, "dropuser", "no command given");
}

#[test]
fn the_seeds_nobody_becomes_nobody_nogroup_not_root() {
    if !require_root("the_seeds_nobody_becomes_nobody_nogroup_not_root") {
        return;
    }
    let Some(image) = image() else { return };
    let (out, ran) = probe(&image, &[], &["nobody"]);
    let want = Want { uid: 65534, gid: 65534, groups: &[65534], home: "/nonexistent", user: "nobody" };
    assert_became("nobody", &out, ran, &want, 0);
}

#[test]
fn keep_caps_binds_port_80_and_keeps_nothing_else() {
    if !require_root("keep_caps_binds_port_80_and_keeps_nothing_else") || !require_tool("keep_caps", "ip") {
        return;
    }
    let Some(image) = image() else { return };
    let ns = Netns::new();
    // httpd binds before it daemonizes; the daemon dies with the PID namespace.
    let bind = "httpd -p 127.0.0.1:80 && echo bound; grep -E '^Cap' /proc/$$/status";
    let run = |args: &[&str]| {
        let mut argv = vec!["/bin/dropuser"];
        argv.extend_from_slice(args);
        argv.extend_from_slice(&["/bin/sh", "-c", bind]);
        image.command_in(Some(&ns.name), None, &argv).output().expect("ip netns exec")
    };
    for keep in ["net_bind_service", "CAP_NET_BIND_SERVICE"] {
        let out = run(&["--keep-caps", keep, "nobody"]);
        let (stdout, stderr) = text(&out);
        assert!(stdout.contains("bound"), "{keep}: {stdout} {stderr}");
        let r = report(&out);
        for set in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
            assert_eq!(r.get(set).map(String::as_str), Some("0000000000000400"), "{keep}: {set} in {stdout}");
        }
    }
    let out = run(&["nobody"]);
    let (stdout, stderr) = text(&out);
    assert!(!stdout.contains("bound"), "without --keep-caps: {stdout}");
    assert!(stderr.to_lowercase().contains("permission denied"), "bind refused: {stderr}");
    assert_eq!(report(&out).get("CapEff").map(String::as_str), Some("0000000000000000"));
}

#[test]
fn root_without_power() {
    if !require_root("root_without_power") {
        return;
    }
    let Some(image) = image() else { return };
    let (out, ran) = probe(&image, &[], &["--allow-root", "--keep-caps", "chown", "root"]);
    let want = Want { uid: 0, gid: 0, groups: &[0], home: "/root", user: "root" };
    assert_became("--allow-root --keep-caps chown root", &out, ran, &want, 1);
}

#[test]
fn allow_new_privs_leaves_no_new_privs_unset() {
    if !require_root("allow_new_privs_leaves_no_new_privs_unset") {
        return;
    }
    let Some(image) = image() else { return };
    let (out, ran) = probe(&image, &[], &["--allow-new-privs", "node"]);
    assert!(ran && out.status.success(), "{}", text(&out).1);
    let r = report(&out);
    assert_eq!(r.get("NoNewPrivs").map(String::as_str), Some("0"));
    assert_eq!(r.get("CapBnd").map(String::as_str), Some("0000000000000000"));
    assert_eq!(r.get("uid").map(String::as_str), Some("1000"));
}

#[test]
fn a_non_root_caller_can_only_be_itself() {
    if !require_root("a_non_root_caller_can_only_be_itself") {
        return;
    }
    let Some(image) = image() else { return };
    let caller = Some((1000, 1000));
    // unshare --setgid leaves the caller without supplementary groups, and
    // a non-root caller cannot add any: it keeps the ones it has.
    for spec in ["node", "1000"] {
        let (out, ran) = probe_as(&image, caller, &[], &[spec]);
        let want = Want { uid: 1000, gid: 1000, groups: &[], home: "/home/node", user: "node" };
        let (_, err) = text(&out);
        assert_eq!(out.status.code(), Some(0), "{spec}: {err}");
        let r = report(&out);
        assert_eq!(r.get("NoNewPrivs").map(String::as_str), Some("1"), "{spec}");
        assert_eq!(r.get("CapEff").map(String::as_str), Some("0000000000000000"), "{spec}");
        assert_eq!(r.get("Groups").map(String::as_str), Some(""), "{spec}");
        assert_eq!(r.get("home").map(String::as_str), Some(want.home), "{spec}");
        assert!(ran);
    }
    let rows: &[(&str, &str)] = &[
        ("games", "must run as root to become games (running as uid 1000)"),
        ("node:daemon", "must run as root to become node"),
        ("node:node", "must run as root to become node"),
        ("nobody", "must run as root to become nobody (running as uid 1000)"),
    ];
    for (spec, needle) in rows {
        let (out, ran) = probe_as(&image, caller, &[], &[spec]);
        assert_refused(&out, "dropuser", needle);
        assert!(!ran, "{spec}: must not run");
    }
    let (out, ran) = probe_as(&image, caller, &[], &["--keep-caps", "net_bind_service", "node"]);
    assert_refused(&out, "dropuser", "cannot keep cap_net_bind_service");
    assert!(!ran);
}

#[test]
fn a_non_root_caller_drops_the_capabilities_it_holds() {
    if !require_root("a_non_root_caller_drops_the_capabilities_it_holds") {
        return;
    }
    let Some(image) = image() else { return };
    // The outer dropuser makes a uid 1000 process that holds
    // net_bind_service in every set; the inner one runs as that caller.
    let outer = ["/bin/dropuser", "--keep-caps", "net_bind_service", "node"];
    let (out, ran) = probe(&image, &outer, &["node"]);
    let (_, err) = text(&out);
    assert!(ran, "{err}");
    let r = report(&out);
    for set in ["CapInh", "CapPrm", "CapEff", "CapAmb"] {
        assert_eq!(r.get(set).map(String::as_str), Some("0000000000000000"), "{set}: {r:?}");
    }
    // Without CAP_SETPCAP the bounding set stays; no_new_privs covers it.
    assert_eq!(r.get("CapBnd").map(String::as_str), Some("0000000000000400"));
    assert_eq!(r.get("NoNewPrivs").map(String::as_str), Some("1"));
    assert_eq!(r.get("Groups").map(String::as_str), Some("1000"));

    let (out, ran) = probe(&image, &outer, &["--keep-caps", "net_bind_service", "node:node"]);
    let want = Want { uid: 1000, gid: 1000, groups: &[1000], home: "/home/node", user: "node" };
    assert_became("nested --keep-caps", &out, ran, &want, 0x400);

    let (out, ran) = probe(&image, &outer, &["node:daemon"]);
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(125), "{err}");
    let last = err.lines().last().unwrap_or_default();
    assert!(last.starts_with("dropuser: must run as root to become node (uid 1000, gid 1,"), "{err}");
    assert!(!ran);
}

#[test]
fn the_environment_is_the_targets() {
    if !require_root("the_environment_is_the_targets") {
        return;
    }
    let Some(image) = image() else { return };
    let env = |args: &[&str]| {
        let mut argv = vec!["/bin/dropuser"];
        argv.extend_from_slice(args);
        argv.push("env");
        let out = image
            .command(&argv)
            .env("HOME", "/root")
            .env("USER", "root")
            .env("LOGNAME", "root")
            .env("TERM", "xterm")
            .env("FOO", "bar")
            .output()
            .expect("unshare");
        assert!(out.status.success(), "{args:?}: {}", text(&out).1);
        let mut lines: Vec<String> = text(&out).0.lines().map(str::to_owned).collect();
        lines.sort();
        lines
    };
    assert_eq!(
        env(&["multi"]),
        ["FOO=bar", "HOME=/home/multi", "LOGNAME=multi", "PATH=/bin", "TERM=xterm", "USER=multi"]
    );
    assert_eq!(
        env(&["--reset-env", "nobody"]),
        [
            "HOME=/nonexistent",
            "LOGNAME=nobody",
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "TERM=xterm",
            "USER=nobody"
        ]
    );
    assert_eq!(env(&["4242"]), ["FOO=bar", "HOME=/", "LOGNAME=4242", "PATH=/bin", "TERM=xterm", "USER=4242"]);
}

#[test]
fn setsid_gives_the_command_its_own_session() {
    if !require_root("setsid_gives_the_command_its_own_session") {
        return;
    }
    let Some(image) = image() else { return };
    let session = |out: &Output| {
        assert!(out.status.success(), "{}", text(out).1);
        let r = report(out);
        (r["pid"].clone(), r["sid"].clone())
    };
    let (out, _) = probe(&image, &[], &["nobody"]);
    let (pid, sid) = session(&out);
    assert_ne!(pid, sid, "without --setsid the caller's session is kept");
    let (out, _) = probe(&image, &[], &["--setsid", "nobody"]);
    let (pid, sid) = session(&out);
    assert_eq!(pid, sid, "--setsid: a session of its own");
    // A session leader cannot setsid: dropuser runs the command as a child
    // in a new session and passes its status on.
    let (out, ran) = probe(&image, &["/bin/setsid"], &["--setsid", "nobody"]);
    let (pid, sid) = session(&out);
    assert!(ran);
    assert_eq!(pid, sid, "--setsid from a session leader: a session of its own");
    assert_ne!(pid, "1", "run as a child of dropuser");
    let out = image
        .command(&["/bin/setsid", "/bin/dropuser", "--setsid", "nobody", "sh", "-c", "exit 7"])
        .output()
        .expect("unshare");
    assert_eq!(out.status.code(), Some(7), "{}", text(&out).1);
}

#[test]
fn exec_failures_and_statuses() {
    if !require_root("exec_failures_and_statuses") {
        return;
    }
    let Some(image) = image() else { return };
    let run = |argv: &[&str]| image.command(argv).output().expect("unshare");
    let out = run(&["/bin/dropuser", "nobody", "/bin/nonexistent"]);
    assert_eq!(out.status.code(), Some(127), "{}", text(&out).1);
    assert!(text(&out).1.contains("dropuser: /bin/nonexistent: command not found"), "{}", text(&out).1);
    let out = run(&["/bin/dropuser", "nobody", "nonexistent"]);
    assert_eq!(out.status.code(), Some(127), "{}", text(&out).1);
    let out = run(&["/bin/dropuser", "nobody", "/etc/passwd"]);
    assert_eq!(out.status.code(), Some(126), "{}", text(&out).1);
    assert!(text(&out).1.contains("/etc/passwd: cannot execute: permission denied"), "{}", text(&out).1);
    let out = run(&["/bin/dropuser", "nobody", "sh", "-c", "exit 7"]);
    assert_eq!(out.status.code(), Some(7));
    for argv in [
        ["/bin/dropuser", "--", "nobody", "id", "-u"],
        ["/bin/dropuser", "nobody", "--", "id", "-u"],
        ["/bin/dropuser", "--setsid", "nobody", "id", "-u"],
    ] {
        let out = run(&argv);
        assert_eq!(text(&out).0, "65534\n", "{argv:?}: {}", text(&out).1);
    }
}

#[test]
fn the_command_is_looked_up_as_the_target() {
    if !require_root("the_command_is_looked_up_as_the_target") {
        return;
    }
    let Some(image) = image() else { return };
    std::fs::create_dir(image.path().join("secret")).expect("mkdir");
    image.write("secret/which-one", "#!/bin/sh\necho secret\n", 0o755);
    image.write("bin/which-one", "#!/bin/sh\necho public\n", 0o755);
    std::fs::set_permissions(image.path().join("secret"), std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .expect("chmod");
    let out =
        image.command(&["/bin/dropuser", "nobody", "which-one"]).env("PATH", "/secret:/bin").output().expect("unshare");
    assert_eq!(text(&out).0, "public\n", "{}", text(&out).1);
    let out = image
        .command(&["/bin/dropuser", "--allow-root", "root", "which-one"])
        .env("PATH", "/secret:/bin")
        .output()
        .expect("unshare");
    assert_eq!(text(&out).0, "secret\n", "root can read /secret: {}", text(&out).1);
}

#[test]
fn an_image_without_passwd_or_group() {
    if !require_root("an_image_without_passwd_or_group") {
        return;
    }
    if !require_tool("an_image_without_passwd_or_group", "unshare") {
        return;
    }
    let image = Scratch::new("dropuser-bare");
    let (out, ran) = probe(&image, &[], &["4242"]);
    assert_became("4242", &out, ran, &Want { uid: 4242, gid: 4242, groups: &[4242], home: "/", user: "4242" }, 0);
    let (out, ran) = probe(&image, &[], &["65532:65532"]);
    assert_became(
        "65532:65532",
        &out,
        ran,
        &Want { uid: 65532, gid: 65532, groups: &[65532], home: "/", user: "65532" },
        0,
    );
    let (out, ran) = probe(&image, &[], &["node"]);
    assert_refused(&out, "dropuser", "unknown user \"node\"");
    assert!(!ran);
    let (out, ran) = probe(&image, &[], &["1000:staff"]);
    assert_refused(&out, "dropuser", "unknown group \"staff\"");
    assert!(!ran);
}

#[test]
fn installed_setuid_it_refuses_to_run() {
    if !require_root("installed_setuid_it_refuses_to_run") {
        return;
    }
    let Some(image) = image() else { return };
    std::fs::create_dir(image.path().join("suid")).expect("mkdir");
    let copy = image.path().join("suid/dropuser");
    // A copy, not a link: chmod u+s must not touch cargo's binary.
    assert!(std::process::Command::new("cp").arg(common::hardbox()).arg(&copy).status().expect("cp").success());
    std::fs::set_permissions(&copy, std::os::unix::fs::PermissionsExt::from_mode(0o4755)).expect("chmod u+s");
    let out = image.command_in(None, Some((1000, 1000)), &["/suid/dropuser", "nobody", "touch", "/tmp/suid"]).output();
    let out = out.expect("unshare");
    assert_refused(&out, "dropuser", "refusing to run setuid");
    assert!(!image.path().join("tmp/suid").exists());
}

#[test]
fn help_exits_zero() {
    let out = std::process::Command::new(common::applet("dropuser")).arg("--help").output().expect("run");
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out).0.contains("--keep-caps"));
}

/// The TTY hijack of gosu #37 / su-exec #23, for real: on a terminal that
/// is the caller's controlling terminal, the command tries TIOCSTI. It runs
/// on the host (its own `nobody`, nothing changed) because the probe is
/// perl, which Debian always has and the scratch image does not.
#[test]
fn setsid_stops_tiocsti_into_the_callers_terminal() {
    if !require_root("setsid_stops_tiocsti_into_the_callers_terminal") || !require_tool("tiocsti", "perl") {
        return;
    }
    let legacy = std::fs::read_to_string("/proc/sys/dev/tty/legacy_tiocsti").map(|v| v.trim() == "1").unwrap_or(true);
    let dropuser = common::applet("dropuser");
    let dropuser = dropuser.to_str().expect("utf-8 path");
    let probe = r#"my $c = "x"; print ioctl(STDIN, 0x5412, $c) ? "injected\n" : "refused\n""#;
    let run = |argv: &[&str]| {
        let pty = nix::pty::openpty(None, None).expect("openpty");
        let mut cmd = std::process::Command::new(argv[0]);
        cmd.args(&argv[1..]).stdin(std::process::Stdio::from(pty.slave));
        // SAFETY (test): setsid and ioctl are async-signal-safe; the pty
        // becomes the controlling terminal of a session the command leads.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let out = cmd.output().expect("spawn");
        drop(pty.master);
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{argv:?}: {stderr}");
        stdout
    };
    let shell = |options: &str| format!("{dropuser} {options} nobody /usr/bin/perl -e '{probe}'; exit $?");
    if legacy {
        assert_eq!(run(&["/bin/sh", "-c", &shell("")]), "injected\n", "without --setsid the hole is there");
    }
    // dropuser under a shell: setsid() itself; as the session leader: a child.
    assert_eq!(run(&["/bin/sh", "-c", &shell("--setsid")]), "refused\n");
    assert_eq!(run(&[dropuser, "--setsid", "nobody", "/usr/bin/perl", "-e", probe]), "refused\n");
}

/// DESIGN.md: the command inherits exactly the file descriptors hardbox
/// was given (whatever the test runner passes down included).
#[test]
fn the_command_inherits_exactly_the_callers_descriptors() {
    if !require_root("the_command_inherits_exactly_the_callers_descriptors") {
        return;
    }
    let Some(image) = image() else { return };
    // One run lists the shell's descriptors, then execs dropuser, whose
    // command lists its own: both lines come from one process tree, so
    // whatever the test runner's other threads hold cannot blur them.
    let fds = |dropuser: &str| {
        let list = "cd /proc/$$/fd && echo *";
        let script = format!("{list}; cd /; exec {dropuser} /bin/sh -c '{list}'");
        let out = image.command(&["/bin/sh", "-c", &script]).output().expect("unshare");
        assert!(out.status.success(), "{dropuser}: {}", text(&out).1);
        let stdout = text(&out).0;
        let lines: Vec<String> = stdout.lines().map(str::to_string).collect();
        assert_eq!(lines.len(), 2, "{stdout}");
        assert!(lines[0].starts_with("0 1 "), "{stdout}");
        (lines[0].clone(), lines[1].clone())
    };
    for dropuser in ["/bin/dropuser multi", "/bin/dropuser --setsid multi", "/bin/setsid /bin/dropuser --setsid multi"]
    {
        let (given, seen) = fds(dropuser);
        assert_eq!(seen, given, "{dropuser}");
    }
}

/// Issue 18.8: musl keeps `node:` as one member and reads 4294967296 as 0.
/// The first line must not put node in group 0; the second must not vouch
/// for it.
#[test]
fn group_lines_musl_reads_otherwise_are_refused_not_believed() {
    if !require_root("group_lines_musl_reads_otherwise_are_refused_not_believed") {
        return;
    }
    let Some(image) = image() else { return };
    let rows: &[(&str, Result<&[u32], &str>)] = &[
        ("evil:x:4294967296:node\nfake:x:0:node:\n", Err("/etc/group line 10 (\"evil\")")),
        ("evil:x:4294967296:node\n", Err("musl reads its ids as 0")),
        ("fake:x:0:node:\n", Ok(&[1000])),
        ("empty:x::node\n", Err("/etc/group line 10 (\"empty\")")),
        ("twice:x:77:multi,,node\n", Ok(&[1000])),
        ("spaced:x:78: node\n", Ok(&[1000])),
        ("good:x:79:multi,node\n", Ok(&[79, 1000])),
    ];
    for (lines, want) in rows {
        image.write("etc/group", &format!("{GROUP}{lines}"), 0o644);
        let (out, ran) = probe(&image, &[], &["node"]);
        match want {
            Ok(groups) => {
                let want = Want { uid: 1000, gid: 1000, groups, home: "/home/node", user: "node" };
                assert_became(lines, &out, ran, &want, 0);
            }
            Err(needle) => {
                assert_refused(&out, "dropuser", needle);
                assert!(!ran, "{lines:?}: must not run");
            }
        }
    }
}

/// Issue 18.10: more than 32 groups works (musl's sysconf says 32), up to
/// the kernel's NGROUPS_MAX; past it, a refusal that says so.
#[test]
fn supplementary_groups_up_to_ngroups_max() {
    if !require_root("supplementary_groups_up_to_ngroups_max") {
        return;
    }
    let Some(image) = image() else { return };
    let with_groups = |n: u32| {
        let lines: String = (0..n).map(|i| format!("g{i}:x:{}:node\n", 100_000 + i)).collect();
        image.write("etc/group", &format!("{GROUP}{lines}"), 0o644);
    };
    with_groups(40);
    let (out, ran) = probe(&image, &[], &["node"]);
    let groups: Vec<u32> =
        (100_000..100_040).chain([1000]).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let want = Want { uid: 1000, gid: 1000, groups: &groups, home: "/home/node", user: "node" };
    assert_became("node in 41 groups", &out, ran, &want, 0);

    // busybox id would take minutes over 65536 groups: grep reads its own.
    let status = |spec: &str| {
        image
            .command(&["/bin/dropuser", spec, "grep", "-E", "^(Uid|Groups):", "/proc/self/status"])
            .output()
            .expect("unshare")
    };
    with_groups(65_535);
    let out = status("node");
    assert!(out.status.success(), "65536 groups: {}", text(&out).1);
    let r = report(&out);
    assert_eq!(r.get("Groups").map(|g| g.split_whitespace().count()), Some(65_536));
    assert_eq!(r.get("Uid").map(String::as_str), Some("1000\t1000\t1000\t1000"));

    with_groups(65_536);
    let out = status("node");
    assert_refused(&out, "dropuser", "65537 supplementary groups, more than the kernel's NGROUPS_MAX (65536)");
}

/// Issue 18.2: a key root added to its session keyring is the command's
/// to read unless the drop gives it a keyring of its own. Run on the host
/// (keyctl is not in the scratch image), in a session keyring made for
/// the test, as the host's nobody.
#[test]
fn the_callers_session_keyring_stays_behind() {
    if !require_root("the_callers_session_keyring_stays_behind") || !require_tool("keyring", "keyctl") {
        return;
    }
    let dropuser = common::applet("dropuser");
    let script = r#"id=$(keyctl add user hardbox-test secret @s) || exit 99
keyctl print "$id"
"$0" nobody keyctl print "$id"; echo "print=$?"
"$0" nobody keyctl rdescribe @s; echo "describe=$?""#;
    let out = std::process::Command::new("keyctl")
        .args(["session", "-", "sh", "-c", script])
        .arg(&dropuser)
        .output()
        .expect("keyctl session");
    let (stdout, stderr) = text(&out);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.first(), Some(&"secret"), "root reads its own key: {stdout} {stderr}");
    assert_eq!(lines.iter().filter(|l| **l == "secret").count(), 1, "nobody must not read it: {stdout} {stderr}");
    assert!(lines.contains(&"print=1"), "{stdout} {stderr}");
    assert!(stderr.contains("Permission denied"), "{stderr}");
    // A keyring of nobody's own, anonymous (_ses), not root's.
    let describe = lines.iter().find(|l| l.starts_with("keyring;")).unwrap_or_else(|| panic!("{stdout} {stderr}"));
    assert!(describe.starts_with("keyring;65534;65534;") && describe.ends_with(";_ses"), "{describe}");
}

/// Runs `argv` (argv[0] an absolute path) with exactly `env` as its
/// environment, duplicates and malformed entries included, which
/// std::process::Command cannot produce.
fn run_with_raw_env(argv: &[&str], env: &[&str]) -> Output {
    use std::ffi::CString;
    use std::os::unix::process::CommandExt;
    let cstrings = |list: &[&str]| list.iter().map(|s| CString::new(*s).expect("no NUL")).collect::<Vec<_>>();
    let (args, envs) = (cstrings(argv), cstrings(env));
    // Addresses, so that the closure is Send; the strings move in with them.
    let pointers = |list: &[CString]| list.iter().map(|s| s.as_ptr() as usize).chain([0]).collect::<Vec<_>>();
    let (arg_ptrs, env_ptrs) = (pointers(&args), pointers(&envs));
    let mut cmd = std::process::Command::new(argv[0]);
    // SAFETY (test): only execve runs after fork, which is async-signal-safe;
    // the closure owns the strings the pointer arrays point into.
    unsafe {
        cmd.pre_exec(move || {
            let _keep = (&args, &envs);
            libc::execve(
                arg_ptrs[0] as *const libc::c_char,
                arg_ptrs.as_ptr().cast::<*const libc::c_char>(),
                env_ptrs.as_ptr().cast::<*const libc::c_char>(),
            );
            Err(std::io::Error::last_os_error())
        });
    }
    cmd.output().expect("spawn")
}

/// Issue 18.3: the environment after the drop says the target, once.
#[test]
fn no_duplicate_or_malformed_entry_survives_the_drop() {
    if !require_root("no_duplicate_or_malformed_entry_survives_the_drop") {
        return;
    }
    let Some(image) = image() else { return };
    let root = format!("--root={}", image.path().display());
    let run = |args: &[&str], env: &[&str]| {
        let mut argv = vec!["/usr/bin/unshare", "--pid", "--fork", "--mount-proc=/proc", &root, "--", "/bin/dropuser"];
        argv.extend_from_slice(args);
        argv.extend_from_slice(&["/bin/busybox", "env"]);
        let out = run_with_raw_env(&argv, env);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(0), "{args:?} {env:?}: {stderr}");
        let mut lines: Vec<String> = stdout.lines().map(str::to_owned).collect();
        lines.sort();
        lines
    };
    let dirty = [
        "PATH=/bin",
        "HOME=/root",
        "HOME=/root",
        "USER=root",
        "USER=root",
        "LOGNAME=root",
        "LOGNAME=root",
        "TERM=xterm",
        "TERM=vt100",
        "=foo=bar",
        "NOEQUALS",
        "FOO=bar",
    ];
    let kept = run(&["nobody"], &dirty);
    for (name, value) in [("HOME", "/nonexistent"), ("USER", "nobody"), ("LOGNAME", "nobody")] {
        let entries: Vec<&String> = kept.iter().filter(|l| l.starts_with(&format!("{name}="))).collect();
        assert_eq!(entries, [&format!("{name}={value}")], "{name} once: {kept:?}");
    }
    assert!(kept.contains(&"FOO=bar".to_owned()), "the rest is kept: {kept:?}");
    assert_eq!(
        run(&["--reset-env", "nobody"], &dirty),
        [
            "HOME=/nonexistent",
            "LOGNAME=nobody",
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "TERM=xterm",
            "USER=nobody"
        ]
    );
    // `env -i '=foo=bar' dropuser --reset-env nobody true` aborted with 134.
    let out = run_with_raw_env(
        &[
            "/usr/bin/unshare",
            "--pid",
            "--fork",
            "--mount-proc=/proc",
            &root,
            "--",
            "/bin/dropuser",
            "--reset-env",
            "nobody",
            "true",
        ],
        &["=foo=bar"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
}

/// Issue 18.3 (gosu's CVE-2025-47906): an empty or relative PATH entry
/// would find the command in the current directory after the drop.
#[test]
fn the_path_search_skips_empty_and_relative_entries() {
    if !require_root("the_path_search_skips_empty_and_relative_entries") {
        return;
    }
    let Some(image) = image() else { return };
    // unshare --root starts the command in the new root, /.
    image.write("which-one", "#!/bin/sh\necho planted in cwd\n", 0o755);
    image.write("tmp/which-one", "#!/bin/sh\necho planted in tmp\n", 0o755);
    image.write("bin/which-one", "#!/bin/sh\necho public\n", 0o755);
    let run = |path: &str, command: &str| {
        // Set inside the image: the host's unshare is found through the test's PATH.
        let path = format!("PATH={path}");
        let out = image.command(&["/bin/env", &path, "/bin/dropuser", "nobody", command]).output().expect("unshare");
        (out.status.code(), text(&out).0)
    };
    assert_eq!(run(":/bin", "which-one"), (Some(0), "public\n".into()), "an empty entry");
    assert_eq!(run("/bin:", "which-one"), (Some(0), "public\n".into()), "a trailing empty entry");
    assert_eq!(run(".:/bin", "which-one"), (Some(0), "public\n".into()), "a dot");
    assert_eq!(run("tmp:/bin", "which-one"), (Some(0), "public\n".into()), "a relative entry");
    assert_eq!(run(":", "which-one").0, Some(127), "nothing absolute: not found");
    assert_eq!(run("/bin", "./which-one"), (Some(0), "planted in cwd\n".into()), "a / is taken as given");
    assert_eq!(run("/bin", "tmp/which-one"), (Some(0), "planted in tmp\n".into()), "a / is taken as given");
    assert_eq!(run("/nonexistent:/bin", "which-one"), (Some(0), "public\n".into()));
}
