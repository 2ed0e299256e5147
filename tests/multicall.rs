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

#[test]
fn setuid_install_is_refused() {
    if !require_root("setuid_install_is_refused") {
        return;
    }
    let dir = TempDir::new("setuid");
    let copy = dir.path().join("hardbox");
    // A separate copy (chmod on a link would change cargo's binary), written
    // by cp so that no descriptor open for writing lives in this test process.
    assert!(Command::new("cp").arg(hardbox()).arg(&copy).status().unwrap().success());
    // Owned by root, setuid, run by nobody: real uid != effective uid.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o4755)).unwrap();
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(&copy)
        .arg("--list")
        .output()
        .unwrap();
    assert_refused(&out, "hardbox", "setuid");
    assert!(out.stdout.is_empty(), "nothing ran");
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
