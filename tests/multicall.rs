//! The multi-call binary: dispatch by link name and by first argument,
//! --list, --version, --install, unknown names, and the setuid refusal.

mod common;

use std::process::Command;

use common::*;

fn hb(args: &[&str]) -> std::process::Output {
    Command::new(hardbox()).args(args).output().expect("run hardbox")
}

#[test]
fn list_prints_one_applet_per_line_and_every_one_dispatches() {
    let out = hb(&["--list"]);
    assert!(out.status.success());
    let (list, _) = text(&out);
    let names: Vec<&str> = list.lines().collect();
    assert!(!names.is_empty(), "--list names the applets");
    for name in names {
        let by_arg = hb(&[name, "--help"]);
        assert_eq!(by_arg.status.code(), Some(0), "hardbox {name} --help");
        assert!(!by_arg.stdout.is_empty(), "hardbox {name} --help prints usage");
        assert!(!text(&by_arg).0.contains("help, help"), "{name}: a bare help is a command, not a help trigger");
        let by_link = Command::new(applet(name)).arg("--help").output().expect("run link");
        assert_eq!(by_link.status.code(), Some(0), "{name} --help through its link");
        assert_eq!(by_link.stdout, by_arg.stdout, "{name}: link and argument give the same help");
    }
}

#[test]
fn help_and_bare_name_show_usage_with_every_applet() {
    let (list, _) = text(&hb(&["--list"]));
    for args in [&[][..], &["--help"][..]] {
        let out = hb(args);
        assert_eq!(out.status.code(), Some(0));
        let (usage, _) = text(&out);
        for name in list.lines() {
            assert!(usage.contains(name), "usage mentions {name}");
        }
    }
}

#[test]
fn version_names_the_target_commit_and_toolchain() {
    let (version, _) = text(&hb(&["--version"]));
    assert!(version.starts_with("hardbox "), "{version}");
    assert!(version.contains("-linux-musl"), "{version}");
    assert!(version.contains("commit "), "{version}");
    // The shipped build's nightly or a stable, release and commit: which
    // toolchain made this binary.
    let rustc = version.split(", rustc ").nth(1).unwrap_or_else(|| panic!("no rustc in {version}"));
    let (release, commit) =
        rustc.trim_end().trim_end_matches(')').split_once(' ').unwrap_or_else(|| panic!("{version}"));
    assert!(release.starts_with("1."), "{version}");
    assert!(commit.len() == 9 && commit.bytes().all(|b| b.is_ascii_hexdigit()), "{version}");
}

#[test]
fn unknown_applet_is_125_and_points_to_list() {
    let out = hb(&["frobnicate"]);
    assert_refused(&out, "hardbox", "'frobnicate'");
    assert!(text(&out).1.contains("hardbox --list"));
    let out = hb(&["frob\nhardbox: forged"]);
    assert_refused(&out, "hardbox", "'frob\\nhardbox: forged'");

    let dir = TempDir::new("unknown");
    let link = dir.path().join("frobnicate");
    std::os::unix::fs::symlink(hardbox(), &link).unwrap();
    let out = Command::new(&link).output().unwrap();
    assert_refused(&out, "hardbox", "'frobnicate'");
}

#[test]
fn install_makes_relative_links_that_survive_a_move() {
    let root = TempDir::new("install");
    let bin = root.path().join("image/bin");
    std::fs::create_dir_all(&bin).unwrap();
    place_hardbox(&bin.join("hardbox"));
    let out = Command::new(bin.join("hardbox")).arg("--install").arg(&bin).output().unwrap();
    assert!(out.status.success(), "{:?}", text(&out));
    let (list, _) = text(&hb(&["--list"]));
    for name in list.lines() {
        let target = std::fs::read_link(bin.join(name)).unwrap();
        assert_eq!(target, std::path::PathBuf::from("hardbox"), "{name} is relative");
    }
    // The image mounted elsewhere (/dbg): the links still reach hardbox.
    let moved = root.path().join("dbg");
    std::fs::rename(root.path().join("image"), &moved).unwrap();
    let first = list.lines().next().unwrap();
    let out = Command::new(moved.join("bin").join(first)).arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    // Idempotent.
    let out = Command::new(moved.join("bin/hardbox")).arg("--install").arg(moved.join("bin")).output().unwrap();
    assert!(out.status.success(), "{:?}", text(&out));
}

#[test]
fn install_never_overwrites_a_stranger_without_force() {
    let root = TempDir::new("install-force");
    let (list, _) = text(&hb(&["--list"]));
    let names: Vec<&str> = list.lines().collect();
    let stranger = root.path().join(names[names.len() - 1]);
    std::fs::write(&stranger, "not hardbox").unwrap();
    let out = Command::new(hardbox()).arg("--install").arg(root.path()).output().unwrap();
    assert_refused(&out, "hardbox", "--force");
    assert_eq!(std::fs::read_to_string(&stranger).unwrap(), "not hardbox");
    // Nothing was half-installed: only the stranger is there.
    assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 1);
    let out = Command::new(hardbox()).arg("--install").arg(root.path()).arg("--force").output().unwrap();
    assert!(out.status.success(), "{:?}", text(&out));
    assert!(std::fs::symlink_metadata(&stranger).unwrap().file_type().is_symlink());
}

/// A copy of hardbox in a fresh directory nobody can reach, owned by root,
/// changed by `change` (a mode or file capabilities), then run as nobody
/// through an applet that would run a command: the kernel marks that exec
/// secure, and hardbox must refuse before the command runs.
fn run_marked_copy_as_nobody(tag: &str, change: impl FnOnce(&std::path::Path)) -> std::process::Output {
    let dir = TempDir::new(tag);
    let copy = dir.path().join("hardbox");
    // A separate copy (chmod on a link would change cargo's binary), written
    // by cp so that no descriptor open for writing lives in this test process.
    assert!(Command::new("cp").arg(hardbox()).arg(&copy).status().unwrap().success());
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    change(&copy);
    Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(&copy)
        .args(["dropuser", "--keep-caps", "setuid,setgid", "65534", "echo", "the command ran"])
        .output()
        .unwrap()
}

#[test]
fn setuid_install_is_refused() {
    if !require_root("setuid_install_is_refused") || !require_tool("setuid_install_is_refused", "setpriv") {
        return;
    }
    for (tag, mode) in [("setuid", 0o4755), ("setgid", 0o2755)] {
        let out = run_marked_copy_as_nobody(tag, |copy| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(copy, std::fs::Permissions::from_mode(mode)).unwrap();
        });
        assert_refused(&out, "dropuser", "chmod u-s,g-s");
        assert!(out.stdout.is_empty(), "{tag}: the command never ran");
    }
}

/// Issue 18.1: with file capabilities uid == euid, and only AT_SECURE tells.
/// Before the fix nobody ran the command with CAP_SETUID kept.
#[test]
fn file_capabilities_are_refused() {
    if !require_root("file_capabilities_are_refused")
        || !require_tool("file_capabilities_are_refused", "setpriv")
        || !require_tool("file_capabilities_are_refused", "setcap")
    {
        return;
    }
    let out = run_marked_copy_as_nobody("filecaps", |copy| {
        let status = Command::new("setcap").arg("cap_setuid,cap_setgid+ep").arg(copy).status().unwrap();
        assert!(status.success(), "setcap on {}", copy.display());
    });
    assert_refused(&out, "dropuser", "setcap -r");
    assert!(out.stdout.is_empty(), "the command never ran: {:?}", text(&out));
}

#[test]
fn messages_name_the_applet_also_when_called_through_hardbox() {
    let out = hb(&["route-add", "--no-such-option"]);
    assert_refused(&out, "route-add", "--no-such-option");
}

#[test]
fn an_unknown_log_level_is_refused_before_anything_runs() {
    let out = Command::new(applet("route-add")).arg("--list").env("HARDBOX_LOG", "verbose").output().unwrap();
    assert_refused(&out, "route-add", "verbose");
    assert!(out.stdout.is_empty(), "nothing ran");
    for level in ["quiet", "info", "debug", ""] {
        let out = Command::new(applet("route-add")).arg("--help").env("HARDBOX_LOG", level).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "HARDBOX_LOG={level}");
    }
}

/// A directory holding an executable named `help` that says it ran, and
/// with what: the command a bare `help` must reach. Written by sh, so no
/// descriptor open for writing lives in this test process.
fn help_command() -> TempDir {
    let dir = TempDir::new("help-cmd");
    let status = Command::new("sh")
        .args(["-c", "printf '#!/bin/sh\\necho \"help ran: $*\"\\n' >\"$1/help\" && chmod 755 \"$1/help\"", "sh"])
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    dir
}

/// DESIGN.md: a positional `help` is a command like any other word, and
/// `--help` after the command belongs to the command.
#[test]
fn a_bare_help_is_the_command_in_every_applet_that_runs_one() {
    if !require_root("a_bare_help_is_the_command_in_every_applet_that_runs_one") {
        return;
    }
    let dir = help_command();
    let path = format!("{}:/usr/bin:/bin", dir.path().display());
    let record = dir.path().join("record");
    let me = std::process::id().to_string();
    let before: Vec<(&str, Vec<&str>)> = vec![
        ("dropuser", vec!["--allow-root", "root"]),
        ("dhi-bootstrap", vec!["--no-drop"]),
        ("checkpoint", vec!["--path", record.to_str().unwrap()]),
        ("nsenter-lite", vec!["-t", &me, "-a"]),
    ];
    for (name, options) in &before {
        for command in [&["help"][..], &["help", "x"], &["help", "--help"], &["help", "help"]] {
            let _ = std::fs::remove_file(&record);
            let out = Command::new(applet(name))
                .args(options)
                .args(command)
                .env("PATH", &path)
                .env_remove("ROUTE_DESTINATION")
                .env_remove("ROUTES")
                .output()
                .unwrap();
            let (stdout, stderr) = text(&out);
            assert_eq!(out.status.code(), Some(0), "{name} {options:?} {command:?}: {stderr}");
            assert_eq!(stdout, format!("help ran: {}\n", command[1..].join(" ")), "{name} {options:?} {command:?}");
        }
        // `--help` before the command still asks for the usage.
        let out = Command::new(applet(name)).arg("--help").arg("help").env("PATH", &path).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{name} --help help");
        assert!(text(&out).0.contains("Usage:"), "{name} --help help shows the usage: {:?}", text(&out));
    }
}

/// route-add's words are a route: `help` is a bad one, not a request for usage.
#[test]
fn route_add_reads_help_as_a_route_word() {
    for args in [&["help"][..], &["help", "x"], &["192.0.2.0/24", "help"], &["192.0.2.0/24", "--help"]] {
        let out = Command::new(applet("route-add")).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(125), "route-add {args:?}: {:?}", text(&out));
        assert!(out.stdout.is_empty(), "route-add {args:?} printed no usage");
    }
}

/// Issue 16.2: route-add, dropuser and nsenter-lite are silent on success,
/// as ip, gosu and nsenter are; HARDBOX_LOG=info shows the step's line.
#[test]
fn ad_hoc_applets_are_silent_on_success_unless_asked() {
    if !require_root("ad_hoc_applets_are_silent_on_success_unless_asked") {
        return;
    }
    let ns = Netns::new();
    let me = std::process::id().to_string();
    let route = applet("route-add").display().to_string();
    let argv = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Vec<_>>();
    let cases = [
        (
            "route-add",
            argv(&["ip", "netns", "exec", &ns.name, &route, "192.0.2.0/24", "dev", "lo"]),
            "route-add: set 192.0.2.0/24 dev lo",
        ),
        ("dropuser", argv(&[applet("dropuser").to_str().unwrap(), "nobody", "true"]), "dropuser: running true as"),
        (
            "nsenter-lite",
            argv(&[applet("nsenter-lite").to_str().unwrap(), "-t", &me, "-a", "true"]),
            "nsenter-lite: process",
        ),
    ];
    for (name, words, line) in &cases {
        for level in [None, Some("quiet"), Some("info")] {
            let mut cmd = Command::new(&words[0]);
            cmd.args(&words[1..]);
            match level {
                Some(level) => cmd.env("HARDBOX_LOG", level),
                None => cmd.env_remove("HARDBOX_LOG"),
            };
            let out = cmd.output().unwrap();
            let (stdout, stderr) = text(&out);
            assert_eq!(out.status.code(), Some(0), "{name} HARDBOX_LOG={level:?}: {stderr}");
            assert!(stdout.is_empty(), "{name}: stdout is the command's: {stdout:?}");
            if level == Some("info") {
                assert_eq!(stderr.lines().count(), 1, "{name} with info: one line: {stderr:?}");
                assert!(stderr.starts_with(line), "{name} with info says {line:?}: {stderr:?}");
            } else {
                assert_eq!(stderr, "", "{name} HARDBOX_LOG={level:?} is silent on success");
            }
        }
    }
}

/// Issue 18.10: with the binary itself in DIR under an applet's name,
/// `--install DIR --force` deleted it and left a link to itself.
#[test]
fn install_force_never_replaces_the_binary_itself() {
    let root = TempDir::new("install-self");
    let bin = root.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    // A copy of its own (not a hard link to cargo's binary), named after an applet.
    let real = bin.join("checkpoint");
    assert!(Command::new("cp").arg(hardbox()).arg(&real).status().unwrap().success());
    let before = std::fs::read(&real).unwrap();
    // Reached through a link named hardbox, so the first argument picks the mode.
    let entry = root.path().join("hardbox");
    std::os::unix::fs::symlink(&real, &entry).unwrap();
    let out = Command::new(&entry).arg("--install").arg(&bin).arg("--force").output().unwrap();
    assert_refused(&out, "hardbox", "is the hardbox binary itself");
    let meta = std::fs::symlink_metadata(&real).unwrap();
    assert!(meta.is_file(), "still the binary, not a link");
    assert_eq!(std::fs::read(&real).unwrap(), before);
    assert_eq!(std::fs::read_dir(&bin).unwrap().count(), 1, "nothing half-installed");

    // Another hard link of the binary is only a name: --force may replace it.
    let other = root.path().join("other");
    std::fs::create_dir(&other).unwrap();
    assert!(Command::new("cp").arg(hardbox()).arg(other.join("hardbox")).status().unwrap().success());
    std::fs::hard_link(other.join("hardbox"), other.join("route-add")).unwrap();
    let out = Command::new(other.join("hardbox")).arg("--install").arg(&other).arg("--force").output().unwrap();
    assert!(out.status.success(), "{:?}", text(&out));
    assert_eq!(std::fs::read_link(other.join("route-add")).unwrap(), std::path::PathBuf::from("hardbox"));
    assert!(std::fs::symlink_metadata(other.join("hardbox")).unwrap().is_file());
}

/// Issue 18.10: a command name holding a newline or an escape sequence
/// cannot forge a second line, or reach the terminal raw.
#[test]
fn control_characters_in_a_command_name_are_escaped() {
    let forged = "nosuch\napplet: forged line\u{1b}[2J";
    let dir = TempDir::new("forged");
    let record = dir.path().join("record");
    let record = record.to_str().unwrap();
    for (name, before) in [("dhi-bootstrap", &["--no-drop"][..]), ("checkpoint", &["--path", record][..])] {
        let out = Command::new(applet(name)).args(before).arg(forged).output().unwrap();
        let (_, stderr) = text(&out);
        assert_eq!(stderr.lines().filter(|l| l.contains("forged")).count(), 1, "{name}: {stderr:?}");
        assert!(stderr.contains("nosuch\\napplet: forged line\\u{1b}[2J"), "{name}: escaped: {stderr:?}");
        assert!(!stderr.contains('\u{1b}'), "{name}: no raw escape: {stderr:?}");
    }
    // Info lines too, which printed command[0] and the path raw.
    if !require_root("control_characters_in_a_command_name_are_escaped") {
        return;
    }
    let out = Command::new(applet("dropuser"))
        .args(["--allow-root", "root", forged])
        .env("HARDBOX_LOG", "info")
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(127), "{stderr:?}");
    assert!(!stderr.lines().any(|l| l.starts_with("applet: forged")), "no forged line: {stderr:?}");
    let odd = dir.path().join("a\ncheckpoint: forged");
    std::fs::create_dir(&odd).unwrap();
    let out = Command::new(applet("checkpoint")).arg("--path").arg(odd.join("done")).arg("true").output().unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr:?}");
    assert!(!stderr.lines().any(|l| l.starts_with("checkpoint: forged")), "no forged line: {stderr:?}");
}
