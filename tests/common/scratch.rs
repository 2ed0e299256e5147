//! A directory that looks like a `FROM scratch` image: the static hardbox
//! and its links in /bin, a static busybox as the probe program, /etc
//! written by the test, empty /proc and /tmp. Commands run inside it through
//! `unshare --pid --fork --mount-proc --root`: a private mount namespace
//! (the proc mount vanishes with it) and a PID namespace (whatever the
//! command leaves behind dies with it).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use super::TempDir;

/// The busybox applets the probes use, linked in /bin.
const BUSYBOX_APPLETS: &[&str] =
    &["sh", "id", "grep", "cat", "touch", "env", "echo", "httpd", "setsid", "sleep", "true", "false"];

pub struct Scratch {
    dir: TempDir,
}

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        let dir = TempDir::new(tag);
        let root = dir.path();
        // A chroot's root is traversed by the users the tests become.
        std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755)).expect("chmod root");
        for sub in ["bin", "etc", "proc"] {
            std::fs::create_dir(root.join(sub)).expect("mkdir");
        }
        std::fs::create_dir(root.join("tmp")).expect("mkdir tmp");
        std::fs::set_permissions(root.join("tmp"), std::fs::Permissions::from_mode(0o1777)).expect("chmod tmp");
        let hardbox = root.join("bin/hardbox");
        super::place_hardbox(&hardbox);
        let out = Command::new(&hardbox).arg("--install").arg(root.join("bin")).output().expect("run --install");
        assert!(out.status.success(), "--install: {}", String::from_utf8_lossy(&out.stderr));
        super::place_executable(Path::new("/bin/busybox"), &root.join("bin/busybox"));
        for applet in BUSYBOX_APPLETS {
            std::os::unix::fs::symlink("busybox", root.join("bin").join(applet)).expect("link busybox applet");
        }
        Scratch { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file inside the image, e.g. `etc/passwd`.
    pub fn write(&self, relative: &str, contents: &str, mode: u32) {
        let path = self.path().join(relative);
        std::fs::write(&path, contents).expect("write into the image");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod in the image");
    }

    /// `argv` run inside the image, as root, with nothing in the environment
    /// but PATH=/bin.
    pub fn command(&self, argv: &[&str]) -> Command {
        self.command_in(None, None, argv)
    }

    /// As `command`, optionally inside a network namespace (`ip netns exec`)
    /// and as a non-root caller (uid, gid; no supplementary groups).
    pub fn command_in(&self, netns: Option<&str>, caller: Option<(u32, u32)>, argv: &[&str]) -> Command {
        let mut cmd = match netns {
            Some(ns) => {
                let mut cmd = Command::new("ip");
                cmd.args(["netns", "exec", ns, "unshare"]);
                cmd
            }
            None => Command::new("unshare"),
        };
        cmd.args(["--pid", "--fork", "--mount-proc=/proc"]).arg(format!("--root={}", self.path().display()));
        if let Some((uid, gid)) = caller {
            cmd.args(["--setgid", &gid.to_string(), "--setuid", &uid.to_string()]);
        }
        cmd.arg("--").args(argv).env_clear().env("PATH", "/bin");
        cmd
    }
}
