//! The container suite: the image Dockerfile.static builds, used every way the
//! README shows, in a real engine. docker when a working one is there, else
//! Debian's podman (with runc and explicit limits, as this machine needs).
//!
//! The hardbox image is the one scripts/build-image.sh built from the whole
//! Dockerfile.static, build stage included, when HARDBOX_IMAGE names it (as
//! scripts/test.sh does, and CI must). Else it is built once per run from
//! Dockerfile.static's final stage, with the `build` stage replaced by a
//! directory that scripts/image-root.sh lays out from the binary under test.
//! Every container, image and network made here carries this process's pid in
//! its name and is removed afterwards, also when a test fails.

mod common;

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use common::{hardbox, require_root, require_tool, text, TempDir};

/// No engine command may hang the suite: each is killed after this long.
const ENGINE_TIMEOUT: &str = "120";

struct Engine {
    program: &'static str,
    podman: bool,
}

impl Engine {
    /// docker when its daemon answers, else podman. None: skip (and under CI,
    /// where every test must run, require_tool/require_root panic instead).
    fn detect(test: &str) -> Option<Engine> {
        let docker = Command::new("docker").arg("info").output();
        if docker.map(|out| out.status.success()).unwrap_or(false) {
            return Some(Engine { program: "docker", podman: false });
        }
        if !require_tool(test, "podman") || !require_root(test) {
            return None;
        }
        Some(Engine { program: "podman", podman: true })
    }

    fn cmd<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Command {
        let mut cmd = Command::new("timeout");
        cmd.args([ENGINE_TIMEOUT, self.program]);
        if self.podman {
            // crun fails on this machine's cgroup layout.
            cmd.args(["--runtime", "runc"]);
        }
        cmd.args(args);
        cmd
    }

    fn output<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Output {
        self.cmd(args).output().expect("run the container engine")
    }

    /// Runs an engine command that must succeed; its trimmed stdout.
    fn ok<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> String {
        let out = self.output(args);
        let (stdout, stderr) = text(&out);
        let line: Vec<String> = args.iter().map(|a| a.as_ref().to_string_lossy().into_owned()).collect();
        assert!(out.status.success(), "{} {}: {stderr}{stdout}", self.program, line.join(" "));
        stdout.trim().to_string()
    }

    /// `run --name NAME` plus what every container here gets: podman cannot
    /// raise limits on this machine, so it gets explicit ones at or under the
    /// hard limits, and its --read-only would otherwise add writable tmpfs
    /// mounts that docker's does not.
    fn run_args(&self, name: &str) -> Vec<String> {
        let mut args = vec!["run".to_string(), "--name".into(), name.into()];
        if self.podman {
            let nofile = hard_limit("Max open files").min(4096);
            let nproc = hard_limit("Max processes").min(4096);
            args.extend(["--ulimit".into(), format!("nofile={nofile}:{nofile}")]);
            args.extend(["--ulimit".into(), format!("nproc={nproc}:{nproc}")]);
            args.push("--read-only-tmpfs=false".into());
        }
        args
    }

    /// `build -q`, and for podman `--layers=false`: otherwise it keeps an
    /// untagged image per step, which removing the tagged one leaves behind.
    fn build_args(&self) -> Vec<String> {
        let mut args = vec!["build".to_string(), "-q".into()];
        if self.podman {
            args.push("--layers=false".into());
        }
        args
    }

    fn remove_container(&self, name: &str) {
        let args: &[&str] = if self.podman { &["rm", "-f", "-t", "0", name] } else { &["rm", "-f", name] };
        let _ = self.cmd(args).output();
    }
}

/// The hard limit named `what` in /proc/self/limits ("Max open files").
fn hard_limit(what: &str) -> u64 {
    let limits = std::fs::read_to_string("/proc/self/limits").expect("read /proc/self/limits");
    let line = limits.lines().find(|l| l.starts_with(what)).unwrap_or_else(|| panic!("{what} in {limits}"));
    let hard = line[what.len()..].split_whitespace().nth(1).unwrap_or("unlimited");
    hard.parse().unwrap_or(u64::MAX)
}

/// A container removed on drop, whatever the test's outcome.
struct Container<'a> {
    engine: &'a Engine,
    name: String,
}

impl Drop for Container<'_> {
    fn drop(&mut self) {
        self.engine.remove_container(&self.name);
    }
}

impl Container<'_> {
    /// stdout and stderr of the container so far.
    fn logs(&self) -> (String, String) {
        text(&self.engine.output(&["logs", &self.name]))
    }

    /// Waits for the container to end; its exit status.
    fn wait(&self) -> i32 {
        let status = self.engine.ok(&["wait", &self.name]);
        status.parse().unwrap_or_else(|_| panic!("{} wait {}: {status:?}", self.engine.program, self.name))
    }

    fn exec(&self, args: &[&str]) -> Output {
        let mut all = vec!["exec", &self.name];
        all.extend(args);
        self.engine.output(&all)
    }

    /// Polls the logs until stdout holds `needle`; the logs then.
    fn logs_until(&self, needle: &str) -> (String, String) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (out, err) = self.logs();
            if out.contains(needle) {
                return (out, err);
            }
            assert!(
                Instant::now() < deadline,
                "{}: no {needle:?} in the logs; stdout: {out}\nstderr: {err}",
                self.name
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// An image a single test builds, removed on drop.
struct Image<'a> {
    engine: &'a Engine,
    name: String,
}

impl Drop for Image<'_> {
    fn drop(&mut self) {
        let _ = self.engine.cmd(&["rmi", "-f", &self.name]).output();
    }
}

/// Everything the scenarios share, made once per run.
struct Fixture {
    engine: &'static Engine,
    /// The image Dockerfile.static builds.
    hardbox: String,
    /// FROM hardbox, plus busybox and the app script, dhi-bootstrap as entrypoint.
    app: String,
    /// busybox alone: an image with no hardbox in it.
    bare: String,
    /// busybox and bash: stands in for a Kubernetes node.
    node: String,
    /// An internal network: containers that need one get it, and nothing leaves.
    network: String,
    gateway: Ipv4Addr,
    /// `hardbox --version` of the binary in the image.
    version: String,
}

static ENGINE: OnceLock<Engine> = OnceLock::new();
static FIXTURE: OnceLock<Fixture> = OnceLock::new();

/// Held by a test while its containers mount the hardbox image: podman 4.3
/// unmounts an image mount that one container ends with while another is
/// starting on it ("error mounting ... merge to rootfs at /dbg").
static IMAGE_MOUNT: Mutex<()> = Mutex::new(());

fn image_mount_turn() -> MutexGuard<'static, ()> {
    IMAGE_MOUNT.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn tag(what: &str) -> String {
    format!("hbtest-{}-{what}", std::process::id())
}

/// The fixture, or None when no engine can run here (a skip, outside CI).
fn fixture(test: &str) -> Option<&'static Fixture> {
    if let Some(fixture) = FIXTURE.get() {
        return Some(fixture);
    }
    let engine = Engine::detect(test)?;
    Some(FIXTURE.get_or_init(|| build_fixture(ENGINE.get_or_init(|| engine))))
}

fn source(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn build_fixture(engine: &'static Engine) -> Fixture {
    // Before anything is made, so that a fixture that fails half-way is
    // cleaned up too.
    // SAFETY: registers a plain function; it runs once, at process exit,
    // after every test has returned, so it races with nothing.
    let rc = unsafe { libc::atexit(remove_shared) };
    assert_eq!(rc, 0, "atexit");

    let bin = hardbox();
    let version = Command::new(&bin).arg("--version").output().expect("run hardbox --version");
    let version = text(&version).0.trim().to_string();

    let hardbox = match std::env::var("HARDBOX_IMAGE") {
        Ok(image) if !image.is_empty() => {
            assert_image_carries(engine, &image, &bin);
            image
        }
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI runs the container suite against Dockerfile.static built whole: \
                 HARDBOX_IMAGE=$(bash scripts/build-image.sh) (scripts/test.sh sets it)"
            );
            build_final_stage(engine, &bin)
        }
    };

    let app_sh = [(source("tests/container/app.sh"), "root/app.sh".to_string())];
    let app = build_test_image(engine, "app", &["--build-arg".into(), format!("HARDBOX_IMAGE={hardbox}")], &app_sh);
    let bare = build_test_image(engine, "bare", &[], &[]);
    let bash = std::fs::canonicalize("/bin/bash").expect("the host's bash");
    let node = build_test_image(engine, "node", &[], &with_libraries(&bash, "/bin/bash"));

    let network = tag("net");
    engine.ok(&["network", "create", "--internal", &network]);
    let gateway = gateway(engine, &network);
    Fixture { engine, hardbox, app, bare, node, network, gateway, version }
}

/// The image's /bin/hardbox must be the binary under test, byte for byte:
/// the build stage runs scripts/build-release.sh, which is reproducible, and
/// the suite must not report on one binary while testing another.
fn assert_image_carries(engine: &Engine, image: &str, bin: &Path) {
    let dir = TempDir::new("image-binary");
    let name = tag("carrier");
    engine.ok(&["create", "--name", &name, image]);
    let copied = dir.path().join("hardbox");
    let out = engine.output(&["cp".to_string(), format!("{name}:/bin/hardbox"), copied.to_string_lossy().into_owned()]);
    engine.remove_container(&name);
    assert!(out.status.success(), "{} cp {name}:/bin/hardbox: {}", engine.program, text(&out).1);
    let (ours, theirs) =
        (std::fs::read(bin).expect("read the binary under test"), std::fs::read(&copied).expect("read"));
    assert!(
        ours == theirs,
        "{image}'s /bin/hardbox ({} bytes) is not {} ({} bytes): build both from one commit \
         (scripts/build-release.sh, scripts/build-image.sh)",
        theirs.len(),
        bin.display(),
        ours.len()
    );
}

/// Dockerfile.static's final stage, its `build` stage replaced by the root
/// scripts/image-root.sh lays out from `bin`; the image's tag.
fn build_final_stage(engine: &Engine, bin: &Path) -> String {
    let root = TempDir::new("image-root");
    let out = Command::new("bash")
        .arg(source("scripts/image-root.sh"))
        .arg(bin)
        .arg(root.path().join("out"))
        .output()
        .expect("run scripts/image-root.sh");
    assert!(out.status.success(), "image-root.sh: {}", text(&out).1);
    let hardbox = tag("hardbox");
    let dockerfile = source("Dockerfile.static");
    let context = root.path().to_string_lossy().into_owned();
    let mut args = engine.build_args();
    args.extend(["-t".into(), hardbox.clone(), "-f".into(), dockerfile.to_string_lossy().into_owned()]);
    args.extend(["--build-context".into(), format!("build={context}"), context]);
    engine.ok(&args);
    hardbox
}

/// Builds `containerfile` as image `name`, with build `options`, from a
/// context that holds root/bin/busybox and `files` (host file, context path).
fn build_image(
    engine: &Engine,
    name: &str,
    containerfile: &Path,
    options: &[String],
    files: &[(PathBuf, String)],
) -> String {
    let context = TempDir::new(&format!("ctx-{name}"));
    let dir = context.path();
    let busybox = (PathBuf::from("/bin/busybox"), "root/bin/busybox".to_string());
    for (from, to) in files.iter().chain([&busybox]) {
        let dest = dir.join(to);
        std::fs::create_dir_all(dest.parent().expect("a path in the context")).expect("mkdir");
        std::fs::copy(from, &dest).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
    }
    let image = tag(name);
    let mut args = engine.build_args();
    args.extend(["-t".into(), image.clone()]);
    args.extend(options.iter().cloned());
    args.extend(["-f".into(), containerfile.to_string_lossy().into_owned(), dir.to_string_lossy().into_owned()]);
    engine.ok(&args);
    image
}

/// tests/container/NAME.Containerfile, built as image NAME.
fn build_test_image(engine: &Engine, name: &str, options: &[String], files: &[(PathBuf, String)]) -> String {
    build_image(engine, name, &source(&format!("tests/container/{name}.Containerfile")), options, files)
}

/// A dynamically linked program at `at` under root/, and the libraries
/// `ldd` names for it at their own paths, as (host file, context path) pairs.
fn with_libraries(program: &Path, at: &str) -> Vec<(PathBuf, String)> {
    let out = Command::new("ldd").arg(program).output().expect("run ldd");
    let mut files = vec![(program.to_path_buf(), format!("root{at}"))];
    for word in text(&out).0.split_whitespace().filter(|w| w.starts_with('/')) {
        files.push((PathBuf::from(word), format!("root{word}")));
    }
    files
}

/// The network's IPv4 gateway. An internal network may have none (podman
/// with CNI): then the subnet's first address, which the kernel accepts as a
/// gateway because it is on the connected subnet.
fn gateway(engine: &Engine, network: &str) -> Ipv4Addr {
    let format = if engine.podman {
        "{{range .Subnets}}{{.Subnet}} {{.Gateway}}\n{{end}}"
    } else {
        "{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}\n{{end}}"
    };
    let listing = engine.ok(&["network", "inspect", network, "--format", format]);
    for line in listing.lines() {
        let mut words = line.split_whitespace();
        let Some((base, _)) = words.next().and_then(|subnet| subnet.split_once('/')) else { continue };
        let Ok(base) = base.parse::<Ipv4Addr>() else { continue };
        return match words.next().and_then(|gw| gw.parse().ok()) {
            Some(gw) => gw,
            None => Ipv4Addr::from(u32::from(base) + 1),
        };
    }
    panic!("network {network} has no IPv4 subnet: {listing}");
}

/// At exit: the shared images and network, and any container a test left
/// behind, all found by this run's names (HARDBOX_IMAGE is the caller's, and
/// stays).
extern "C" fn remove_shared() {
    let Some(engine) = ENGINE.get() else { return };
    let prefix = tag("");
    if let Ok(names) = engine.cmd(&["ps", "-a", "--format", "{{.Names}}"]).output() {
        for name in text(&names).0.lines().filter(|n| n.starts_with(&prefix)) {
            engine.remove_container(name);
        }
    }
    let _ = engine.cmd(&["network", "rm", &tag("net")]).output();
    let _ = engine.cmd(&["rmi", "-f", &tag("app"), &tag("bare"), &tag("node"), &tag("hardbox")]).output();
}

impl Fixture {
    /// Starts a detached container: `opts`, then the image and its arguments.
    fn start(&self, what: &str, opts: &[&str], image: &str, args: &[&str]) -> Container<'_> {
        let container = Container { engine: self.engine, name: tag(what) };
        let mut all = self.engine.run_args(&container.name);
        all.push("-d".into());
        all.extend(opts.iter().map(|s| s.to_string()));
        all.push(image.into());
        all.extend(args.iter().map(|s| s.to_string()));
        self.engine.ok(&all);
        container
    }

    /// Runs a container to its end: its exit status and logs.
    fn run(&self, what: &str, opts: &[&str], image: &str, args: &[&str]) -> (i32, String, String) {
        let container = self.start(what, opts, image, args);
        let status = container.wait();
        let (out, err) = container.logs();
        (status, out, err)
    }

    /// The options of scenario 1: routes via the network's gateway, drop to
    /// nonroot, and only the capabilities that takes.
    fn entrypoint_opts(&self, caps: &[&'static str], user: &str) -> Vec<String> {
        let mut opts: Vec<String> =
            ["--read-only", "--cap-drop", "ALL", "--network", &self.network].iter().map(|s| s.to_string()).collect();
        for cap in caps {
            opts.extend(["--cap-add".into(), cap.to_string()]);
        }
        opts.extend(["-e".into(), "ROUTE_DESTINATION=203.0.113.0/24".into()]);
        opts.extend(["-e".into(), format!("ROUTE_GATEWAY={}", self.gateway)]);
        opts.extend(["-e".into(), format!("DROP_TO_USER={user}")]);
        opts
    }
}

/// The full reference of a locally built image: podman keeps it under
/// localhost/, and a docker-image:// context must name it exactly.
fn qualified(engine: &Engine, image: &str) -> String {
    if engine.podman && !image.starts_with("localhost/") {
        format!("localhost/{image}")
    } else {
        image.to_string()
    }
}

fn refs(opts: &[String]) -> Vec<&str> {
    opts.iter().map(String::as_str).collect()
}

/// What dhi-bootstrap needs to set a route and step down for good.
const ENTRYPOINT_CAPS: &[&str] = &["NET_ADMIN", "SETUID", "SETGID", "SETPCAP"];

/// What the app printed on its `app: KEY VALUE` lines, for one KEY.
fn app_says<'a>(out: &'a str, key: &str) -> Vec<&'a str> {
    out.lines()
        .filter_map(|l| l.strip_prefix("app: ")?.split_once(char::is_whitespace))
        .filter(|(k, _)| *k == key)
        .map(|(_, value)| value.trim())
        .collect()
}

const BUSYBOX: &str = "/bin/busybox";

/// What Dockerfile.static promises: the entrypoint, the labels, and a file
/// system of /bin/hardbox, its links and /etc/passwd and /etc/group only.
#[test]
fn image_holds_hardbox_its_links_and_users_and_nothing_else() {
    let Some(fx) = fixture("image_holds_hardbox_its_links_and_users_and_nothing_else") else { return };
    let e = fx.engine;
    let entrypoint = e.ok(&["image", "inspect", &fx.hardbox, "--format", "{{json .Config.Entrypoint}}"]);
    assert_eq!(entrypoint, r#"["/bin/hardbox"]"#);
    let labels = e.ok(&["image", "inspect", &fx.hardbox, "--format", "{{json .Config.Labels}}"]);
    for (key, value) in [
        ("org.opencontainers.image.version", env!("CARGO_PKG_VERSION")),
        ("org.opencontainers.image.licenses", env!("CARGO_PKG_LICENSE")),
        ("org.opencontainers.image.source", env!("CARGO_PKG_REPOSITORY")),
    ] {
        assert!(labels.contains(&format!(r#""{key}":"{value}""#)), "label {key}={value} in {labels}");
    }

    // The entrypoint, with no argument: the usage, from the binary under test.
    let (status, out, _) =
        fx.run("usage", &["--read-only", "--cap-drop", "ALL", "--network", "none"], &fx.hardbox, &[]);
    assert_eq!(status, 0);
    assert!(out.contains("applets:"), "usage: {out}");
    let (status, out, err) =
        fx.run("version", &["--read-only", "--cap-drop", "ALL", "--network", "none"], &fx.hardbox, &["--version"]);
    assert_eq!((status, out.trim()), (0, fx.version.as_str()), "{err}");

    // Its whole file system, seen from a container it is mounted into.
    let _turn = image_mount_turn();
    let mount = format!("type=image,source={},destination=/dbg", fx.hardbox);
    let (status, out, err) = fx.run(
        "tree",
        &["--read-only", "--cap-drop", "ALL", "--network", "none", "--mount", &mount],
        &fx.bare,
        &[BUSYBOX, "sh", "-c", "cd /dbg && find . -mindepth 1 | sort; cat etc/passwd etc/group"],
    );
    assert_eq!(status, 0, "{err}");
    let mut want: Vec<String> = vec!["./bin".into(), "./bin/hardbox".into(), "./etc".into()];
    want.extend(["./etc/group", "./etc/passwd"].map(String::from));
    let listed = Command::new(hardbox()).arg("--list").output().expect("run hardbox --list");
    want.extend(text(&listed).0.lines().map(|a| format!("./bin/{a}")));
    want.sort();
    let tree: Vec<&str> = out.lines().take_while(|l| l.starts_with("./")).collect();
    assert_eq!(tree, want);
    for entry in
        ["nonroot:x:65532:65532:", "nobody:x:65534:65534:", "root:x:0:0:", "nonroot:x:65532:", "nobody:x:65534:"]
    {
        assert!(out.contains(entry), "{entry} in passwd/group: {out}");
    }
}

/// Scenarios 1, 5 and 2 of issue 7, on one container: the entrypoint sets the
/// route and steps down; exec reaches the running container; stop is quick
/// because SIGTERM reaches the app, whose own status is the container's.
#[test]
fn entrypoint_routes_drops_serves_exec_and_stops_on_sigterm() {
    let Some(fx) = fixture("entrypoint_routes_drops_serves_exec_and_stops_on_sigterm") else { return };
    let opts = fx.entrypoint_opts(ENTRYPOINT_CAPS, "nonroot");
    let app = fx.start("entrypoint", &refs(&opts), &fx.app, &[]);
    let (out, err) = app.logs_until("app: ready");

    // 1. The app's own view: the route, its ids, no capabilities, NoNewPrivs.
    let route = format!("203.0.113.0/24 via {} dev eth0", fx.gateway);
    assert!(app_says(&out, "route").iter().any(|r| r.starts_with(&route)), "{route} in the app's table: {out}");
    assert_eq!(app_says(&out, "id"), ["65532:65532 groups 65532"], "{out}\n{err}");
    for cap in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        assert_eq!(app_says(&out, &format!("{cap}:")), ["0000000000000000"], "{cap}: {out}");
    }
    assert_eq!(app_says(&out, "NoNewPrivs:"), ["1"], "{out}");
    let pid1 = app_says(&out, "pid1");
    assert!(pid1.len() == 1 && pid1[0].starts_with("/bin/dhi-bootstrap "), "PID 1 is hardbox: {pid1:?}");
    assert_ne!(app_says(&out, "pid"), ["1"], "the app is not PID 1");

    // 5. exec into the running container, through the applet links.
    let listed = app.exec(&["/bin/route-add", "--list"]);
    let (list, list_err) = text(&listed);
    assert!(listed.status.success(), "route-add --list: {list_err}");
    assert!(list.lines().any(|l| l.starts_with(&route)), "{route} in route-add --list: {list}");
    let version = app.exec(&["/bin/hardbox", "--version"]);
    assert_eq!(text(&version).0.trim(), fx.version);

    // 2. stop: SIGTERM to PID 1 reaches the app, which exits 42 at once.
    let started = Instant::now();
    fx.engine.ok(&["stop", "-t", "10", &app.name]);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "stop took {took:?}: SIGTERM did not reach the app");
    assert_eq!(app.wait(), 42, "the app's own status");
    assert!(app.logs().0.contains("app: got SIGTERM"));
}

/// Scenario 3: a step that fails stops everything; the app never starts.
#[test]
fn entrypoint_fails_closed() {
    let Some(fx) = fixture("entrypoint_fails_closed") else { return };
    let caps = &ENTRYPOINT_CAPS[1..];
    assert!(!caps.contains(&"NET_ADMIN"));
    let (status, out, err) = fx.run("no-net-admin", &refs(&fx.entrypoint_opts(caps, "nonroot")), &fx.app, &[]);
    assert_eq!(status, 125, "stdout: {out}\nstderr: {err}");
    assert!(err.contains("CAP_NET_ADMIN"), "the hint: {err}");
    assert!(!out.contains("app:"), "the app ran: {out}");

    let opts = fx.entrypoint_opts(ENTRYPOINT_CAPS, "no-such-user");
    let (status, out, err) = fx.run("no-user", &refs(&opts), &fx.app, &[]);
    assert_eq!(status, 125, "stdout: {out}\nstderr: {err}");
    assert!(err.contains("no-such-user"), "names the user: {err}");
    assert!(!out.contains("app:"), "the app ran: {out}");
}

/// Scenario 4: the hardbox image mounted into an app that has no hardbox.
#[test]
fn image_mount_gives_a_shell_less_app_working_tools() {
    let Some(fx) = fixture("image_mount_gives_a_shell_less_app_working_tools") else { return };
    let _turn = image_mount_turn();
    let mount = format!("type=image,source={},destination=/dbg", fx.hardbox);
    let base = ["--read-only", "--cap-drop", "ALL", "--mount", &mount];

    let mut opts = base.to_vec();
    opts.extend(["--network", &fx.network]);
    // IPv4 only: busybox's IPv6 listing mixes in the local table's routes.
    let (status, out, err) = fx.run(
        "dbg-routes",
        &opts,
        &fx.bare,
        &[BUSYBOX, "sh", "-c", "/dbg/bin/route-add --list -4 && echo -- && ip -4 route"],
    );
    assert_eq!(status, 0, "stdout: {out}\nstderr: {err}");
    let (ours, theirs) = out.split_once("--\n").expect("both listings");
    let dests = |listing: &str| -> Vec<String> {
        let mut d: Vec<String> =
            listing.lines().filter_map(|l| l.split_whitespace().next()).map(String::from).collect();
        d.sort();
        d
    };
    assert!(!dests(theirs).is_empty(), "the container has routes: {out}");
    assert_eq!(dests(ours), dests(theirs), "route-add --list and busybox ip route: {out}");

    let mut opts = base.to_vec();
    opts.extend(["--network", "none"]);
    let (status, out, err) = fx.run("dbg-list", &opts, &fx.bare, &["/dbg/bin/hardbox", "--list"]);
    assert_eq!(status, 0, "{err}");
    let listed = Command::new(hardbox()).arg("--list").output().expect("run hardbox --list");
    assert_eq!(out, text(&listed).0);

    opts.extend(["--cap-add", "SETUID", "--cap-add", "SETGID", "--cap-add", "SETPCAP"]);
    let (status, out, err) = fx.run(
        "dbg-drop",
        &opts,
        &fx.bare,
        &["/dbg/bin/dropuser", "4242:4242", BUSYBOX, "sh", "-c", "id; grep -E '^(CapEff|NoNewPrivs):' /proc/$$/status"],
    );
    assert_eq!(status, 0, "stdout: {out}\nstderr: {err}");
    assert!(out.contains("uid=4242 gid=4242 groups=4242"), "{out}");
    assert!(out.contains("CapEff:\t0000000000000000") && out.contains("NoNewPrivs:\t1"), "{out}");
}

/// Scenario 6: nsenter-lite in a privileged container that shares a
/// neighbour's PID namespace sees the neighbour's hostname, and (the README's
/// debugging example) lists the neighbour's routes with its own route-add.
#[test]
fn nsenter_lite_enters_a_neighbour_container() {
    let Some(fx) = fixture("nsenter_lite_enters_a_neighbour_container") else { return };
    let target = fx.start(
        "target",
        &["--read-only", "--cap-drop", "ALL", "--network", &fx.network, "--hostname", "target-host"],
        &fx.bare,
        &[BUSYBOX, "sleep", "3600"],
    );
    let pid = format!("container:{}", target.name);
    let opts = ["--privileged", "--read-only", "--network", "none", "--pid", &pid];
    // The probe is the target's own busybox, reached through /proc/1/root:
    // the hardbox image has nothing to print a hostname with.
    let probe = "/proc/1/root/bin/busybox";
    let (status, out, err) =
        fx.run("nsenter", &opts, &fx.hardbox, &["nsenter-lite", "-t", "1", "-u", "--", probe, "hostname"]);
    assert_eq!((status, out.trim()), (0, "target-host"), "stderr: {err}");
    let mut direct = vec!["--entrypoint", probe];
    direct.extend(opts);
    let (status, out, err) = fx.run("no-nsenter", &direct, &fx.hardbox, &["hostname"]);
    assert_eq!(status, 0, "{err}");
    assert_ne!(out.trim(), "target-host", "without nsenter-lite the container has its own hostname");

    let (status, out, err) =
        fx.run("nsenter-net", &opts, &fx.hardbox, &["nsenter-lite", "-t", "1", "-n", "--", "/bin/route-add", "--list"]);
    assert_eq!(status, 0, "{err}");
    assert!(out.contains(" dev eth0 "), "the target's interface, from a container with none: {out}");
}

/// Scenario 7: the startup-script DaemonSet, with a container standing in
/// for the node: the script runs once in the node's namespaces, a restart
/// does not run it again, a removed checkpoint does.
#[test]
fn startup_script_runs_once_per_checkpoint() {
    let Some(fx) = fixture("startup_script_runs_once_per_checkpoint") else { return };
    let node = fx.start(
        "node",
        // A node's /run is a writable tmpfs: checkpoint keeps its lock there.
        &["--read-only", "--tmpfs", "/tmp", "--tmpfs", "/run", "--cap-drop", "ALL", "--network", "none"],
        &fx.node,
        &[BUSYBOX, "sleep", "3600"],
    );
    let script = "echo ran >> /tmp/ran";
    // The startup-script image's own default path, byte for byte.
    let checkpoint = format!("/tmp/startup-script.kubernetes.io_{}", md5_hex(format!("{script}\n").as_bytes()));
    let pid = format!("container:{}", node.name);
    let env_script = format!("STARTUP_SCRIPT={script}");
    let daemon = fx.start(
        "daemonset",
        &[
            "--privileged",
            "--read-only",
            "--network",
            "none",
            "--pid",
            &pid,
            "-e",
            &env_script,
            "-e",
            "CHECKPOINT_INTERVAL=1",
        ],
        &fx.hardbox,
        &["checkpoint"],
    );
    let runs = || -> usize {
        let out = node.exec(&[BUSYBOX, "cat", "/tmp/ran"]);
        text(&out).0.lines().filter(|l| *l == "ran").count()
    };
    let until_runs = |want: usize| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while runs() < want {
            let (out, err) = daemon.logs();
            assert!(Instant::now() < deadline, "the script did not run {want} time(s); daemon: {out}{err}");
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    until_runs(1);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !node.exec(&[BUSYBOX, "test", "-f", &checkpoint]).status.success() {
        assert!(Instant::now() < deadline, "no checkpoint at {checkpoint}");
        std::thread::sleep(Duration::from_millis(100));
    }

    // Three intervals later, and across a restart, once the new instance has
    // found the checkpoint: still once.
    std::thread::sleep(Duration::from_millis(3500));
    fx.engine.ok(&["restart", "-t", "5", &daemon.name]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !daemon.logs().1.contains("already done") {
        assert!(Instant::now() < deadline, "the restarted checkpoint never looked: {:?}", daemon.logs());
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(2500));
    let (out, err) = daemon.logs();
    assert_eq!(runs(), 1, "ran again without cause; daemon: {out}{err}");
    let running = fx.engine.ok(&["inspect", "--format", "{{.State.Running}}", &daemon.name]);
    assert_eq!(running, "true", "the DaemonSet container keeps running: {out}{err}");

    // The node lost its checkpoint (a reboot clears /tmp): the next interval runs it again.
    assert!(node.exec(&[BUSYBOX, "rm", &checkpoint]).status.success());
    until_runs(2);
}

fn md5_hex(data: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// The README's `COPY --from`: examples/docker/Dockerfile.copy-from, with
/// this run's hardbox image in place of its `hardbox` stage and the
/// busybox-only image as the existing image. The relative links work in
/// /usr/local/bin, and dhi-bootstrap runs a command there as PID 1.
#[test]
fn copy_from_puts_hardbox_into_an_existing_image() {
    let Some(fx) = fixture("copy_from_puts_hardbox_into_an_existing_image") else { return };
    let server = [(source("tests/container/server.js"), "server.js".to_string())];
    // A replaced stage is never built: podman 4.3 deletes the image behind
    // a stage that has no instructions of its own, which would be ours.
    let options = [
        "--build-context".to_string(),
        format!("hardbox=docker-image://{}", qualified(fx.engine, &fx.hardbox)),
        "--build-arg".into(),
        format!("BASE_IMAGE={}", fx.bare),
    ];
    let dockerfile = source("examples/docker/Dockerfile.copy-from");
    let image = Image { engine: fx.engine, name: build_image(fx.engine, "copy-from", &dockerfile, &options, &server) };
    let entrypoint = fx.engine.ok(&["image", "inspect", &image.name, "--format", "{{json .Config.Entrypoint}}"]);
    assert_eq!(entrypoint, r#"["/usr/local/bin/dhi-bootstrap","--","/nodejs/bin/node"]"#);

    let base = ["--read-only", "--cap-drop", "ALL", "--network", "none"];
    let mut opts = base.to_vec();
    opts.extend(["--entrypoint", "/usr/local/bin/hardbox"]);
    let (status, out, err) = fx.run("copied-list", &opts, &image.name, &["--list"]);
    assert_eq!(status, 0, "{err}");
    let listed = Command::new(hardbox()).arg("--list").output().expect("run hardbox --list");
    assert_eq!(out, text(&listed).0);

    let mut opts = base.to_vec();
    opts.extend(["--cap-add", "SETUID", "--cap-add", "SETGID", "--cap-add", "SETPCAP"]);
    opts.extend(["-e", "DROP_TO_USER=4242", "--entrypoint", "/usr/local/bin/dhi-bootstrap"]);
    let (status, out, err) = fx.run("copied-drop", &opts, &image.name, &[BUSYBOX, "id"]);
    assert_eq!((status, out.trim()), (0, "uid=4242 gid=4242 groups=4242"), "stderr: {err}");
}

/// examples/kubernetes/app-deployment.yaml, played by podman (docker has no
/// `kube play`) on the suite's network, with this run's app image, a
/// documentation prefix and the network's gateway put in: its security
/// context (root, four capabilities, allowPrivilegeEscalation false,
/// read-only root) is enough, and the app runs stepped down.
#[test]
fn kubernetes_deployment_example_runs_the_app_stepped_down() {
    let Some(fx) = fixture("kubernetes_deployment_example_runs_the_app_stepped_down") else { return };
    if !fx.engine.podman {
        eprintln!("SKIPPED kubernetes_deployment_example_runs_the_app_stepped_down: docker has no kube play");
        return;
    }
    let name = tag("deploy");
    let mut yaml = std::fs::read_to_string(source("examples/kubernetes/app-deployment.yaml")).expect("read example");
    for (from, to) in [
        ("name: my-app\n".to_string(), format!("name: {name}\n")),
        ("registry.example.com/my-app:1.0".into(), qualified(fx.engine, &fx.app)),
        ("value: 10.20.0.0/16".into(), "value: 203.0.113.0/24".into()),
        ("value: 10.244.0.254".into(), format!("value: {}", fx.gateway)),
    ] {
        assert_eq!(yaml.matches(&from).count(), 1, "the example has one {from:?}");
        yaml = yaml.replace(&from, &to);
    }
    let dir = TempDir::new("kube");
    let file = dir.path().join("deployment.yaml");
    std::fs::write(&file, yaml).expect("write deployment");
    // kube play takes no --ulimit: the limits come from a containers.conf.
    let conf = dir.path().join("containers.conf");
    let (nofile, nproc) = (hard_limit("Max open files").min(4096), hard_limit("Max processes").min(4096));
    let limits = format!("[containers]\ndefault_ulimits = [\"nofile={nofile}:{nofile}\", \"nproc={nproc}:{nproc}\"]\n");
    std::fs::write(&conf, limits).expect("write containers.conf");
    let file = file.to_string_lossy().into_owned();
    let _pod =
        KubeDown { engine: fx.engine, file: file.clone(), conf: conf.clone(), pause_before: pause_images(fx.engine) };
    let played =
        fx.engine.cmd(&["kube", "play", "--network", &fx.network, &file]).env("CONTAINERS_CONF", &conf).output();
    let played = played.expect("run podman kube play");
    assert!(played.status.success(), "kube play: {}", text(&played).1);

    let names = fx.engine.ok(&["ps", "-a", "--format", "{{.Names}}"]);
    let app = names.lines().find(|n| n.starts_with(&name)).unwrap_or_else(|| panic!("no {name} container in {names}"));
    let app = Container { engine: fx.engine, name: app.to_string() };
    let (out, err) = app.logs_until("app: ready");
    assert_eq!(app_says(&out, "id"), ["65532:65532 groups 65532"], "{out}\n{err}");
    assert_eq!(app_says(&out, "CapEff:"), ["0000000000000000"], "{out}");
    assert_eq!(app_says(&out, "NoNewPrivs:"), ["1"], "{out}");
    let route = format!("203.0.113.0/24 via {} dev eth0", fx.gateway);
    assert!(app_says(&out, "route").iter().any(|r| r.starts_with(&route)), "{route}: {out}");
}

/// The images podman builds for pods' infra containers, the first time it
/// makes a pod (localhost/podman-pause:VERSION).
fn pause_images(engine: &Engine) -> Vec<String> {
    let out = engine.cmd(&["images", "--format", "{{.Repository}}:{{.Tag}}"]).output();
    let listing = out.map(|o| text(&o).0).unwrap_or_default();
    listing.lines().filter(|l| l.starts_with("localhost/podman-pause:")).map(String::from).collect()
}

/// Removes what `kube play` made: the pod, and a pause image that was not
/// there before.
struct KubeDown<'a> {
    engine: &'a Engine,
    file: String,
    conf: PathBuf,
    pause_before: Vec<String>,
}

impl Drop for KubeDown<'_> {
    fn drop(&mut self) {
        let _ = self.engine.cmd(&["kube", "down", &self.file]).env("CONTAINERS_CONF", &self.conf).output();
        for image in pause_images(self.engine).iter().filter(|i| !self.pause_before.contains(i)) {
            let _ = self.engine.cmd(&["rmi", image]).output();
        }
    }
}

/// Issue 15's entrypoint steps as a user runs them: a secret mounted
/// read-only (root's, 0400), a volume owned by root given to the app's user,
/// a umask and a limit, the app as nonroot, under `--read-only --cap-drop
/// ALL` plus exactly the capabilities the README names for these steps.
#[test]
fn entrypoint_steps_hand_a_secret_and_a_volume_to_a_nonroot_app() {
    let Some(fx) = fixture("entrypoint_steps_hand_a_secret_and_a_volume_to_a_nonroot_app") else { return };
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = TempDir::new("ctr-entry-steps");
    let secret = dir.path().join("db_password");
    std::fs::write(&secret, "s3cret-in-a-file\n").expect("write secret");
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o400)).expect("chmod");
    let volume = dir.path().join("volume");
    std::fs::create_dir_all(volume.join("old/deeper")).expect("mkdir");
    std::fs::write(volume.join("old/deeper/file"), "x").expect("write");
    let mounts = [
        "-v".to_string(),
        format!("{}:/run/secrets/db:ro", secret.display()),
        "-v".into(),
        format!("{}:/data", volume.display()),
    ];
    let script = "echo \"app: id $(id -u)\"; echo \"app: pw [$DB_PASSWORD]\"; \
                  echo \"app: file-var $(env | grep -c DB_PASSWORD_FILE)\"; \
                  grep Umask /proc/self/status | sed 's/^/app: /'; \
                  echo \"app: core $(grep 'core file' /proc/self/limits | tr -s ' ' | cut -d' ' -f5,6)\"; \
                  touch /data/new && echo 'app: wrote'";
    let args = [
        "--file-env",
        "DB_PASSWORD",
        "--umask",
        "0027",
        "--rlimit",
        "core=0",
        "--own",
        "/data",
        "--",
        BUSYBOX,
        "sh",
        "-c",
        script,
    ];
    let opts = |caps: &[&str]| {
        let mut opts: Vec<String> = ["--read-only", "--cap-drop", "ALL"].iter().map(|s| s.to_string()).collect();
        for cap in caps {
            opts.extend(["--cap-add".into(), cap.to_string()]);
        }
        opts.extend([
            "-e".into(),
            "DROP_TO_USER=nonroot".into(),
            "-e".into(),
            "DB_PASSWORD_FILE=/run/secrets/db".into(),
        ]);
        opts.extend(mounts.iter().cloned());
        opts
    };
    // Without CHOWN: refused, nothing given away, the app never runs.
    let (status, out, err) = fx.run("steps-no-chown", &refs(&opts(&["SETUID", "SETGID", "SETPCAP"])), &fx.app, &args);
    assert_eq!(status, 125, "stdout: {out}\nstderr: {err}");
    assert!(err.contains("needs CAP_CHOWN (docker run --cap-add CHOWN)"), "{err}");
    assert!(!out.contains("app:"), "the app ran: {out}");
    assert_eq!(std::fs::metadata(volume.join("old/deeper/file")).expect("stat").uid(), 0);
    // With the README's capabilities for the drop and --own.
    let caps = ["SETUID", "SETGID", "SETPCAP", "CHOWN"];
    let (status, out, err) = fx.run("steps", &refs(&opts(&caps)), &fx.app, &args);
    assert_eq!(status, 0, "stdout: {out}\nstderr: {err}");
    assert_eq!(app_says(&out, "id"), ["65532"], "{out}");
    assert_eq!(app_says(&out, "pw"), ["[s3cret-in-a-file]"], "{out}");
    assert_eq!(app_says(&out, "file-var"), ["0"], "{out}");
    assert_eq!(app_says(&out, "Umask:"), ["0027"], "{out}");
    assert_eq!(app_says(&out, "core"), ["0 0"], "{out}");
    assert!(out.contains("app: wrote"), "the app could not write its volume: {out}\n{err}");
    assert!(!err.contains("s3cret"), "the secret leaked into the log: {err}");
    for entry in ["", "old", "old/deeper", "old/deeper/file", "new"] {
        let meta = std::fs::symlink_metadata(volume.join(entry)).expect("stat");
        assert_eq!((meta.uid(), meta.gid()), (65532, 65532), "/data/{entry}");
    }
    let meta = std::fs::metadata(&secret).expect("stat secret");
    assert_eq!((meta.uid(), meta.mode() & 0o777), (0, 0o400), "the secret file itself is untouched");
}

/// Seconds since boot, as every container on this kernel reads them too.
fn uptime() -> f64 {
    let text = std::fs::read_to_string("/proc/uptime").expect("read /proc/uptime");
    text.split_whitespace().next().and_then(|s| s.parse().ok()).expect("a number in /proc/uptime")
}

/// Issue 15's `--term-delay 2s` under a real `stop`: the app's trap sees
/// SIGTERM 2s (+-200 ms) after the stop, and the app's status is the
/// container's. A second TERM (`kill`) releases a held one at once.
#[test]
fn term_delay_holds_sigterm_from_the_engines_stop() {
    let Some(fx) = fixture("term_delay_holds_sigterm_from_the_engines_stop") else { return };
    let script = "trap 'read up rest </proc/uptime; echo \"app: term-at $up\"; exit 42' TERM; echo 'app: ready'; \
                  while :; do /bin/busybox sleep 1 & wait $!; done";
    let opts = |delay: &str| -> Vec<String> {
        let mut opts: Vec<String> = ["--read-only", "--cap-drop", "ALL", "--network", "none"].map(String::from).into();
        for cap in &ENTRYPOINT_CAPS[1..] {
            opts.extend(["--cap-add".into(), cap.to_string()]);
        }
        opts.extend(["-e".into(), "DROP_TO_USER=nonroot".into(), "-e".into(), format!("TERM_DELAY={delay}")]);
        opts
    };
    let term_at = |out: &str| -> f64 {
        let at = app_says(out, "term-at");
        assert_eq!(at.len(), 1, "one TERM seen: {out}");
        at[0].parse().expect("uptime seconds")
    };

    let app = fx.start("term-delay", &refs(&opts("2s")), &fx.app, &[BUSYBOX, "sh", "-c", script]);
    app.logs_until("app: ready");
    let stopped = uptime();
    fx.engine.ok(&["stop", "-t", "10", &app.name]);
    assert_eq!(app.wait(), 42, "the app's own status: {:?}", app.logs());
    let (out, err) = app.logs();
    let held = term_at(&out) - stopped;
    // The clock starts before the engine's own client does; its start-up
    // and delivery (100 to 300 ms on a loaded machine) are inside `held`.
    // tests/init.rs holds the init itself to 2 s +- 200 ms.
    assert!((1.8..=2.5).contains(&held), "TERM reached the app {held:.3}s after the stop, want 2s: {out}\n{err}");
    assert!(err.contains("SIGTERM: forwarding it in 2s (--term-delay)"), "{err}");

    let app = fx.start("term-delay-twice", &refs(&opts("30s")), &fx.app, &[BUSYBOX, "sh", "-c", script]);
    app.logs_until("app: ready");
    fx.engine.ok(&["kill", "--signal", "TERM", &app.name]);
    std::thread::sleep(Duration::from_millis(500));
    assert!(app_says(&app.logs().0, "term-at").is_empty(), "the first TERM is held: {:?}", app.logs());
    let second = uptime();
    fx.engine.ok(&["kill", "--signal", "TERM", &app.name]);
    assert_eq!(app.wait(), 42, "{:?}", app.logs());
    let after = term_at(&app.logs().0) - second;
    assert!(after < 1.0, "the second TERM released the first at once, not after 30s: {after:.3}s");
}

/// Issue 15's `--map-exit 143=0`: an app killed by the stop's SIGTERM
/// leaves the container with status 0. And the leftovers: a worker the app
/// leaves behind gets SIGTERM from the init and the time to say so.
#[test]
fn map_exit_and_leftovers_at_the_engines_stop() {
    let Some(fx) = fixture("map_exit_and_leftovers_at_the_engines_stop") else { return };
    let mut opts: Vec<String> = ["--read-only", "--cap-drop", "ALL", "--network", "none"].map(String::from).into();
    for cap in &ENTRYPOINT_CAPS[1..] {
        opts.extend(["--cap-add".into(), cap.to_string()]);
    }
    opts.extend(["-e".into(), "DROP_TO_USER=nonroot".into()]);

    let mut mapped = opts.clone();
    mapped.extend(["-e".into(), "MAP_EXIT=143=0".into()]);
    let app = fx.start("map-exit", &refs(&mapped), &fx.app, &[BUSYBOX, "sh", "-c", "echo 'app: ready'; exec sleep 60"]);
    app.logs_until("app: ready");
    fx.engine.ok(&["stop", "-t", "10", &app.name]);
    assert_eq!(app.wait(), 0, "143 mapped to 0: {:?}", app.logs());
    assert!(app.logs().1.contains("the command's status 143 leaves as 0"), "{:?}", app.logs());

    let worker = "trap 'sleep 0.3; echo app: worker flushed; exit 0' TERM; while :; do sleep 0.05; done";
    let script = format!("{BUSYBOX} sh -c \"{worker}\" & echo 'app: ready'; sleep 1; exit 7");
    let app = fx.start("leftovers", &refs(&opts), &fx.app, &[BUSYBOX, "sh", "-c", &script]);
    assert_eq!(app.wait(), 7, "the app's own status: {:?}", app.logs());
    let (out, err) = app.logs();
    assert!(out.contains("app: worker flushed"), "the worker had its TERM and its time: {out}\n{err}");
    assert!(err.contains("SIGTERM to the processes left"), "{err}");
}

/// Issue 14: an image FROM hardbox's with `HEALTHCHECK CMD ["/bin/probe",
/// ...]` becomes healthy in the engine, and unhealthy once the app's
/// endpoint fails; no shell, curl or wget in the image.
#[test]
fn probe_healthcheck_turns_healthy_then_unhealthy() {
    let Some(fx) = fixture("probe_healthcheck_turns_healthy_then_unhealthy") else { return };
    let page = TempDir::new("healthz");
    let healthz = page.path().join("healthz");
    std::fs::write(&healthz, "ok\n").expect("write healthz");
    let mut options = vec!["--build-arg".to_string(), format!("HARDBOX_IMAGE={}", fx.hardbox)];
    if fx.engine.podman {
        // An OCI image has no HEALTHCHECK: podman keeps it only in docker's format.
        options.extend(["--format".into(), "docker".into()]);
    }
    let files = [(healthz, "root/www/healthz".to_string())];
    let image = Image { engine: fx.engine, name: build_test_image(fx.engine, "health", &options, &files) };
    let app = fx.start("health", &["--network", "none"], &image.name, &[]);
    // podman runs the image's check on demand (its timers need systemd);
    // docker on its own, every second, and reports it in inspect.
    let check = |want: &str| -> bool {
        if fx.engine.podman {
            let out = fx.engine.output(&["healthcheck", "run", &app.name]);
            let (stdout, _) = text(&out);
            return match want {
                "healthy" => out.status.success(),
                _ => out.status.code() == Some(1) && stdout.contains("unhealthy"),
            };
        }
        fx.engine.ok(&["inspect", "-f", "{{.State.Health.Status}}", &app.name]) == want
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check("healthy") {
        assert!(Instant::now() < deadline, "never healthy: {:?}", app.logs());
        std::thread::sleep(Duration::from_millis(200));
    }
    let removed = app.exec(&[BUSYBOX, "rm", "/www/healthz"]);
    assert!(removed.status.success(), "rm healthz: {}", text(&removed).1);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check("unhealthy") {
        assert!(Instant::now() < deadline, "never unhealthy after the endpoint failed: {:?}", app.logs());
        std::thread::sleep(Duration::from_millis(200));
    }
    // The check's own line, as the engine records it, names what it saw.
    let direct = app.exec(&["/bin/probe", "http://127.0.0.1:8080/healthz"]);
    assert_eq!(direct.status.code(), Some(1));
    assert!(text(&direct).1.starts_with("probe: http://127.0.0.1:8080/healthz: 404 Not Found (want 200-399) after "));
    drop(app);
}

/// inspect through the image mount, from a container that shares the app
/// container's PID namespace (the README's debugging form): what it reports
/// of the app is what dhi-bootstrap set and what the app says of itself.
#[test]
fn inspect_sees_a_running_app_as_dhi_bootstrap_left_it() {
    let Some(fx) = fixture("inspect_sees_a_running_app_as_dhi_bootstrap_left_it") else { return };
    let opts = fx.entrypoint_opts(ENTRYPOINT_CAPS, "nonroot");
    let app = fx.start("inspect-app", &refs(&opts), &fx.app, &[]);
    let (said, _) = app.logs_until("app: ready");
    let pid = app_says(&said, "pid")[0].to_string();

    let _turn = image_mount_turn();
    let mount = format!("type=image,source={},destination=/dbg", fx.hardbox);
    let share = format!("container:{}", app.name);
    // SYS_PTRACE: the app is another uid, and its /etc/passwd is behind /proc/PID/root.
    let dbg = ["--read-only", "--cap-drop", "ALL", "--cap-add", "SYS_PTRACE", "--network", "none", "--pid", &share];
    let opts = [&dbg[..], &["--mount", &mount]].concat();
    let (status, out, err) = fx.run("inspect", &opts, &fx.bare, &["/dbg/bin/inspect", &pid]);
    assert_eq!(status, 0, "stdout: {out}\nstderr: {err}");
    let field = |key: &str| -> String {
        let line = out.lines().find(|l| l.split_whitespace().next() == Some(key));
        line.unwrap_or_else(|| panic!("no {key} in {out}")).trim_start()[key.len()..].trim().to_string()
    };
    // The app said `id 65532:65532 groups 65532`; the names are its image's.
    assert_eq!(app_says(&said, "id"), ["65532:65532 groups 65532"], "{said}");
    let ids = "real 65532(nonroot)  effective 65532(nonroot)  saved 65532(nonroot)  fs 65532(nonroot)";
    assert_eq!(field("uid"), ids, "{out}");
    assert_eq!(field("gid"), ids, "{out}");
    assert_eq!(field("groups"), "65532(nonroot)", "{out}");
    // dhi-bootstrap dropped every capability, bounding and ambient included.
    for (key, mask) in
        [("effective", "CapEff:"), ("permitted", "CapPrm:"), ("bounding", "CapBnd:"), ("ambient", "CapAmb:")]
    {
        assert_eq!(app_says(&said, mask), ["0000000000000000"], "{said}");
        assert_eq!(field(key), "none", "{key}: {out}");
    }
    assert_eq!(field("no_new_privs"), "yes", "{out}");
    assert!(out.contains(&format!("  pid         {pid}\n")), "{out}");
    let route = format!("203.0.113.0/24 via {} dev eth0", fx.gateway);
    assert!(out.lines().any(|l| l.trim() == route), "{route} in: {out}");
    assert!(out.contains("  no_new_privs  yes\n"), "{out}");
    // Root without CAP_DAC_OVERRIDE cannot open another uid's 0400 environ:
    // one line, with the fix, and the rest printed (exit 0 above).
    let environment: Vec<&str> = out.lines().filter(|l| l.starts_with("environment")).collect();
    assert_eq!(environment.len(), 1, "{out}");
    assert!(environment[0].ends_with("or the process's own uid: run as root, or as uid 65532)"), "{out}");
}
