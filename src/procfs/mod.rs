//! One look at a process through /proc, for `inspect`: each file read once,
//! nothing written, no namespace entered, nothing sent. The parsers are in
//! `parse`, the report's shape and printing in `report`; this module reads
//! the files and turns what it read (or why it could not) into sections.

pub mod parse;
pub mod report;

use std::ffi::CString;
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::time::{SystemTime, UNIX_EPOCH};

use nix::errno::Errno;

use crate::error::{describe, errno_of, Error, Result};
use crate::privilege::cap_name;
use crate::record::utc;
use parse::{Limit, Mount, Socket, Status};
use report::{Fields, Section, Value};

/// The exit status when the process does not exist: inspect's "no".
pub const EXIT_NO_PROCESS: u8 = 1;

/// A /proc file larger than this is cut off: a process with millions of
/// mounts or sockets must not make inspect take all memory.
const MAX_FILE: u64 = 16 << 20;
const READ_CHUNK: usize = 64 << 10;

/// The inspected process's uid, for the fix in a permission message: one
/// process is inspected per run.
static TARGET_UID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Print the environment's values, not only its names.
    pub env: bool,
    /// List each file descriptor, not only their count.
    pub fds: bool,
}

/// The sections of the report on `pid`; Err when there is no such process.
pub fn inspect(pid: u32, options: Options) -> Result<Vec<Section>> {
    let proc = Proc { dir: format!("/proc/{pid}") };
    let status_text = proc.read("status").map_err(|e| match e.errno {
        Errno::ENOENT | Errno::ESRCH => Error::with_status(
            EXIT_NO_PROCESS,
            format!(
                "no process {pid} here (for a container's, share its PID namespace: docker run --pid container:NAME)"
            ),
        ),
        errno => Error::sys(format!("{}/status", proc.dir), errno, None),
    })?;
    let status = Status::parse(&status_text);
    if let Some([real, ..]) = status.ids("Uid") {
        let _ = TARGET_UID.set(real);
    }
    let accounts = Accounts::read(&proc);
    Ok(vec![
        section("process", process(&proc, &status)),
        section("identity", Ok(identity(&status, &accounts))),
        section("privileges", Ok(privileges(&proc, &status))),
        section("limits", limits(&proc, &status)),
        section("signals", Ok(signals(&status))),
        section("namespaces", namespaces(&proc)),
        section("cgroup", cgroup(&proc)),
        section("mounts", mounts(&proc)),
        section("network", Ok(network(&proc, pid))),
        section("environment", environment(&proc, options.env)),
        section("fds", fds(&proc, options.fds)),
    ])
}

fn section(name: &'static str, body: std::result::Result<Fields, Unread>) -> Section {
    Section { name, body: body.map_err(|e| e.to_string()) }
}

/// Why a file could not be read, worded with its fix.
#[derive(Debug)]
struct Unread {
    path: String,
    errno: Errno,
}

impl std::fmt::Display for Unread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", report::escape(self.path.as_bytes()), describe(self.errno))?;
        match self.errno {
            // Another uid's files are 0400 or 0500: root needs
            // CAP_DAC_OVERRIDE for the mode and CAP_SYS_PTRACE for the check.
            Errno::EACCES | Errno::EPERM => {
                f.write_str(" (needs CAP_SYS_PTRACE and CAP_DAC_OVERRIDE, or the process's own uid: run as root")?;
                if let Some(uid) = TARGET_UID.get() {
                    write!(f, ", or as uid {uid}")?;
                }
                f.write_str(")")
            }
            Errno::ESRCH => f.write_str(" (the process has exited)"),
            _ => Ok(()),
        }
    }
}

impl Unread {
    fn value(self) -> Value {
        Value::Unreadable(self.to_string())
    }
}

struct Proc {
    dir: String,
}

impl Proc {
    fn path(&self, name: &str) -> String {
        format!("{}/{name}", self.dir)
    }

    fn read_bytes(&self, name: &str) -> std::result::Result<Vec<u8>, Unread> {
        let path = self.path(name);
        read_path(&path).map_err(|errno| Unread { path, errno })
    }

    fn read(&self, name: &str) -> std::result::Result<String, Unread> {
        self.read_bytes(name).map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
    }

    fn link(&self, name: &str) -> std::result::Result<Vec<u8>, Unread> {
        let path = self.path(name);
        std::fs::read_link(&path)
            .map(|target| std::os::unix::ffi::OsStringExt::into_vec(target.into_os_string()))
            .map_err(|e| Unread { path, errno: errno_of(&e) })
    }

    /// A file of the process's own root (its /etc/passwd, not ours):
    /// resolved inside that root, so an absolute symlink there (resolv.conf
    /// to /run/...) stays inside it too.
    fn read_in_root(&self, path: &str) -> std::result::Result<String, Unread> {
        let shown = format!("{}/root{path}", self.dir);
        let unread = |errno| Unread { path: shown.clone(), errno };
        let root = open(&self.path("root"), libc::O_PATH | libc::O_DIRECTORY, None).map_err(unread)?;
        let file = match open(path.trim_start_matches('/'), libc::O_RDONLY, Some(&root)) {
            Err(Errno::ENOSYS) => return read_path(&shown).map(lossy).map_err(unread),
            other => other.map_err(unread)?,
        };
        read_file(std::fs::File::from(file)).map(lossy).map_err(unread)
    }
}

fn lossy(bytes: Vec<u8>) -> String {
    String::from_utf8_lossy(&bytes).into_owned()
}

fn read_path(path: &str) -> std::result::Result<Vec<u8>, Errno> {
    let file = std::fs::File::open(path).map_err(|e| errno_of(&e))?;
    read_file(file)
}

fn read_file(file: std::fs::File) -> std::result::Result<Vec<u8>, Errno> {
    // Each read(2) of a /proc/net table walks the kernel's whole socket hash
    // again; a buffer that holds a typical file whole makes it two walks,
    // where std's growth from 32 bytes makes it a dozen.
    let mut bytes = Vec::with_capacity(READ_CHUNK);
    file.take(MAX_FILE).read_to_end(&mut bytes).map_err(|e| errno_of(&e))?;
    Ok(bytes)
}

/// open(2), close-on-exec; with `dir`, openat2 confined to it (RESOLVE_IN_ROOT).
fn open(path: &str, flags: libc::c_int, dir: Option<&OwnedFd>) -> std::result::Result<OwnedFd, Errno> {
    use std::os::fd::AsRawFd;
    let path = CString::new(path).map_err(|_| Errno::EINVAL)?;
    let flags = flags | libc::O_CLOEXEC;
    let fd = match dir {
        // SAFETY: a NUL-terminated path; the result is a new descriptor or -1.
        None => unsafe { libc::open(path.as_ptr(), flags) },
        Some(dir) => {
            // SAFETY: open_how is plain data; zeroed is its documented default.
            let mut how: libc::open_how = unsafe { std::mem::zeroed() };
            how.flags = flags as u64;
            how.resolve = libc::RESOLVE_IN_ROOT;
            // SAFETY: the kernel reads `how` (of the size given) and the
            // NUL-terminated path; the result is a new descriptor or -1.
            let rc = unsafe {
                libc::syscall(
                    libc::SYS_openat2,
                    dir.as_raw_fd(),
                    path.as_ptr(),
                    &how as *const libc::open_how,
                    std::mem::size_of::<libc::open_how>(),
                )
            };
            rc as libc::c_int
        }
    };
    if fd < 0 {
        return Err(Errno::last());
    }
    // SAFETY: fd is a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The process's own /etc/passwd and /etc/group, for the names of its ids.
struct Accounts {
    passwd: std::result::Result<String, Unread>,
    group: std::result::Result<String, Unread>,
}

impl Accounts {
    fn read(proc: &Proc) -> Accounts {
        Accounts { passwd: proc.read_in_root("/etc/passwd"), group: proc.read_in_root("/etc/group") }
    }

    fn user(&self, uid: u32) -> Value {
        Value::Id(uid, self.passwd.as_ref().ok().and_then(|f| parse::account_name(f, uid)).map(|n| esc(&n)))
    }

    fn group(&self, gid: u32) -> Value {
        Value::Id(gid, self.group.as_ref().ok().and_then(|f| parse::account_name(f, gid)).map(|n| esc(&n)))
    }
}

fn esc(text: &str) -> String {
    report::escape(text.as_bytes())
}

fn text_of(value: Option<&str>) -> Value {
    match value {
        Some(text) => Value::text(text),
        None => Value::Unreadable("absent from status".to_string()),
    }
}

fn link_value(proc: &Proc, name: &str) -> Value {
    match proc.link(name) {
        Ok(target) => Value::bytes(&target),
        Err(e) => e.value(),
    }
}

fn process(proc: &Proc, status: &Status) -> std::result::Result<Fields, Unread> {
    let cmdline = proc.read_bytes("cmdline")?;
    let command = match cmdline.strip_suffix(b"\0").unwrap_or(&cmdline) {
        [] => Value::Text(format!("[{}]", esc(status.get("Name").unwrap_or("")))),
        args => Value::Text(args.split(|&b| b == 0).map(report::escape).collect::<Vec<_>>().join(" ")),
    };
    let mut fields: Fields = vec![
        ("pid", status.number("Pid").map(Value::Num).unwrap_or_else(|| text_of(None))),
        ("ppid", status.number("PPid").map(Value::Num).unwrap_or_else(|| text_of(None))),
        ("state", text_of(status.get("State"))),
        ("command", command),
        ("executable", link_value(proc, "exe")),
        ("cwd", link_value(proc, "cwd")),
        ("root", link_value(proc, "root")),
    ];
    if let Some(pids) = status.get("NSpid").filter(|p| p.split_whitespace().count() > 1) {
        // Its pid as its own PID namespace numbers it (a container's 1).
        fields.push(("nspid", Value::text(pids.split_whitespace().last().unwrap_or(""))));
    }
    match start_time(proc) {
        Ok((started, age)) => {
            fields.push(("started", Value::Text(utc(started))));
            fields.push(("age", Value::Text(duration(age))));
        }
        Err(e) => fields.push(("started", e.value())),
    }
    fields.push(("threads", status.number("Threads").map(Value::Num).unwrap_or_else(|| text_of(None))));
    Ok(fields)
}

/// (start, age) in seconds: the start in clock ticks after boot (stat),
/// the boot time (/proc/stat's btime) and now.
fn start_time(proc: &Proc) -> std::result::Result<(u64, u64), Unread> {
    let stat = proc.read("stat")?;
    let system = read_path("/proc/stat").map(lossy).map_err(|errno| Unread { path: "/proc/stat".into(), errno })?;
    let bad = |path: &str| Unread { path: path.to_string(), errno: Errno::EINVAL };
    // SAFETY: sysconf reads no memory.
    let hz = match unsafe { libc::sysconf(libc::_SC_CLK_TCK) } {
        hz if hz > 0 => hz as u64,
        _ => 100,
    };
    let ticks = parse::stat_start(&stat).ok_or_else(|| bad(&proc.path("stat")))?;
    let boot = system
        .lines()
        .find_map(|l| l.strip_prefix("btime ")?.trim().parse::<u64>().ok())
        .ok_or_else(|| bad("/proc/stat"))?;
    let started = boot.saturating_add(ticks / hz);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    Ok((started, now.saturating_sub(started)))
}

fn duration(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{:02}s", s / 60, s % 60),
        s if s < 86400 => format!("{}h{:02}m", s / 3600, s / 60 % 60),
        s => format!("{}d{:02}h", s / 86400, s / 3600 % 24),
    }
}

fn identity(status: &Status, accounts: &Accounts) -> Fields {
    let ids = |key: &str, name: &dyn Fn(u32) -> Value| match status.ids(key) {
        Some([real, effective, saved, fs]) => Value::Pairs(vec![
            ("real", name(real)),
            ("effective", name(effective)),
            ("saved", name(saved)),
            ("fs", name(fs)),
        ]),
        None => text_of(None),
    };
    let mut fields: Fields = vec![
        ("uid", ids("Uid", &|id| accounts.user(id))),
        ("gid", ids("Gid", &|id| accounts.group(id))),
        (
            "groups",
            match status.groups() {
                Some(groups) => Value::Words(groups.into_iter().map(|g| accounts.group(g)).collect()),
                None => text_of(None),
            },
        ),
    ];
    for (key, file) in [("passwd", &accounts.passwd), ("group", &accounts.group)] {
        if let Err(e) = file {
            fields.push((key, Value::Unreadable(e.to_string())));
        }
    }
    fields
}

fn caps(status: &Status, key: &str) -> Value {
    match status.mask(key) {
        Some(mask) => {
            Value::Words((0..64).filter(|c| mask & (1 << c) != 0).map(|c| Value::Text(cap_name(c))).collect())
        }
        None => text_of(None),
    }
}

fn privileges(proc: &Proc, status: &Status) -> Fields {
    let mut fields: Fields = vec![
        ("effective", caps(status, "CapEff")),
        ("permitted", caps(status, "CapPrm")),
        ("inheritable", caps(status, "CapInh")),
        ("bounding", caps(status, "CapBnd")),
        ("ambient", caps(status, "CapAmb")),
        ("no_new_privs", status.number("NoNewPrivs").map(|n| Value::Bool(n != 0)).unwrap_or_else(|| text_of(None))),
    ];
    let mode = match status.get("Seccomp") {
        Some("0") => Value::text("disabled"),
        Some("1") => Value::text("strict"),
        Some("2") => Value::text("filter"),
        other => text_of(other),
    };
    let mut seccomp = vec![("mode", mode)];
    if let Some(filters) = status.number("Seccomp_filters") {
        seccomp.push(("filters", Value::Num(filters)));
    }
    fields.push(("seccomp", Value::Pairs(seccomp)));
    // No LSM, or one without a label, answers EINVAL or an empty file: nothing to show.
    if let Ok(label) = proc.read_bytes("attr/current") {
        let label = label.strip_suffix(b"\0").unwrap_or(&label);
        let label = label.strip_suffix(b"\n").unwrap_or(label);
        if !label.is_empty() {
            fields.push(("lsm", Value::bytes(label)));
        }
    }
    fields
}

fn limit_value(limit: Option<u64>) -> Value {
    limit.map(Value::Num).unwrap_or_else(|| Value::text("unlimited"))
}

fn limits(proc: &Proc, status: &Status) -> std::result::Result<Fields, Unread> {
    let text = proc.read("limits")?;
    let rows = parse::limits(&text)
        .into_iter()
        .map(|Limit { resource, soft, hard, units }| {
            vec![
                ("resource", Value::text(&resource)),
                ("soft", limit_value(soft)),
                ("hard", limit_value(hard)),
                ("units", Value::text(&units)),
            ]
        })
        .collect();
    Ok(vec![("rlimits", Value::Table(rows)), ("umask", text_of(status.get("Umask")))])
}

fn signals(status: &Status) -> Fields {
    let names = |key: &str| match status.mask(key) {
        Some(mask) => Value::Words(parse::signal_names(mask).into_iter().map(Value::Text).collect()),
        None => text_of(None),
    };
    vec![
        ("blocked", names("SigBlk")),
        ("ignored", names("SigIgn")),
        ("caught", names("SigCgt")),
        ("pending", names("SigPnd")),
    ]
}

const NAMESPACES: [&str; 8] = ["cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"];

/// `net:[4026531840]` -> 4026531840.
fn namespace_id(link: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(link).ok()?;
    text.split_once(":[")?.1.strip_suffix(']')?.parse().ok()
}

fn namespaces(proc: &Proc) -> std::result::Result<Fields, Unread> {
    let own = Proc { dir: "/proc/self".to_string() };
    let mut rows = Vec::new();
    for kind in NAMESPACES {
        let name = format!("ns/{kind}");
        let theirs = match proc.link(&name) {
            Ok(link) => link,
            // A kernel without this namespace type has no link for it.
            Err(Unread { errno: Errno::ENOENT, .. }) => continue,
            Err(e) => return Err(e),
        };
        let Some(id) = namespace_id(&theirs) else { continue };
        let shared = own.link(&name).ok().and_then(|l| namespace_id(&l)) == Some(id);
        rows.push(vec![("type", Value::text(kind)), ("id", Value::Num(id)), ("shared", Value::Bool(shared))]);
    }
    Ok(vec![("namespaces", Value::Table(rows))])
}

/// The cgroup v2 files that explain an OOM kill or an EAGAIN from fork.
const CGROUP_FILES: [&str; 5] = ["memory.max", "memory.current", "pids.max", "pids.current", "cpu.max"];

fn cgroup(proc: &Proc) -> std::result::Result<Fields, Unread> {
    let text = proc.read("cgroup")?;
    let mut fields: Fields = vec![("paths", Value::Lines(text.lines().map(Value::text).collect()))];
    // The path is relative to our cgroup namespace, and so is our cgroup2
    // mount: /sys/fs/cgroup, or /sys/fs/cgroup/unified on a hybrid host.
    if let Some(path) = text.lines().find_map(|l| l.strip_prefix("0::")) {
        let base = match std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
            true => "/sys/fs/cgroup",
            false => "/sys/fs/cgroup/unified",
        };
        let dir = format!("{base}{}", path.trim_end_matches('/'));
        if !std::path::Path::new(&dir).is_dir() {
            let why = format!("{}: absent (not our cgroup2 tree: run in its cgroup namespace)", esc(&dir));
            fields.push(("limits", Value::Unreadable(why)));
            return Ok(fields);
        }
        for file in CGROUP_FILES {
            let full = format!("{dir}/{file}");
            let value = match read_path(&full) {
                Ok(bytes) => Value::text(lossy(bytes).trim()),
                Err(Errno::ENOENT) => Value::text("absent (controller not enabled here)"),
                Err(errno) => Unread { path: full, errno }.value(),
            };
            fields.push((file, value));
        }
    }
    Ok(fields)
}

fn mounts(proc: &Proc) -> std::result::Result<Fields, Unread> {
    let text = proc.read("mountinfo")?;
    let rows = parse::mountinfo(&text)
        .iter()
        .map(|mount| {
            let mut flags = vec![Value::text(if mount.read_only() { "ro" } else { "rw" })];
            flags.extend(["nosuid", "nodev", "noexec"].iter().filter(|f| mount.has(f)).map(|f| Value::text(f)));
            let Mount { point, fstype, source, .. } = mount;
            vec![
                ("point", Value::text(point)),
                ("type", Value::text(fstype)),
                ("source", Value::text(source)),
                ("flags", Value::Words(flags)),
            ]
        })
        .collect();
    Ok(vec![("mounts", Value::Table(rows))])
}

fn network(proc: &Proc, pid: u32) -> Fields {
    let v4 = proc.read("net/route").map(|t| parse::routes_v4(&t));
    let v6 = proc.read("net/ipv6_route").map(|t| parse::routes_v6(&t));
    let mut addresses = Vec::new();
    let mut problems = Vec::new();
    match proc.read("net/fib_trie") {
        Ok(trie) => addresses.extend(parse::addresses_v4(&trie, v4.as_deref().unwrap_or(&[]))),
        Err(e) => problems.push(e.to_string()),
    }
    match proc.read("net/if_inet6") {
        Ok(text) => addresses.extend(parse::addresses_v6(&text)),
        // No IPv6 in this kernel or namespace: no file, and no addresses.
        Err(Unread { errno: Errno::ENOENT, .. }) => {}
        Err(e) => problems.push(e.to_string()),
    }
    let address_rows = addresses
        .iter()
        .map(|a| {
            let addr = match a.prefix_len {
                Some(len) => format!("{}/{len}", a.addr),
                None => a.addr.to_string(),
            };
            vec![("dev", Value::text(&a.dev)), ("address", Value::Text(addr))]
        })
        .collect();
    let mut fields: Fields = vec![(
        "addresses",
        match problems.first() {
            Some(why) if addresses.is_empty() => Value::Unreadable(why.clone()),
            _ => Value::Table(address_rows),
        },
    )];
    let routes = match (v4, v6) {
        (Err(e), _) | (_, Err(e)) => e.value(),
        (Ok(v4), Ok(v6)) => Value::Lines(v4.iter().chain(&v6).map(|r| Value::text(&r.to_string())).collect()),
    };
    fields.push(("routes", routes));
    fields.push(("listening", listening(proc, pid)));
    for (key, path) in [("resolv.conf", "/etc/resolv.conf"), ("hosts", "/etc/hosts")] {
        let value = match proc.read_in_root(path) {
            // Blanks as one space: hosts files align with tabs, which the
            // escaping would spell out as \t.
            Ok(text) => Value::Lines(
                text.lines()
                    .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(|l| Value::text(&l))
                    .collect(),
            ),
            Err(e) => e.value(),
        };
        fields.push((key, value));
    }
    fields
}

fn listening(proc: &Proc, pid: u32) -> Value {
    let mut found: Vec<(&str, Socket)> = Vec::new();
    for (proto, file, state) in [
        ("tcp", "net/tcp", parse::TCP_LISTEN),
        ("tcp6", "net/tcp6", parse::TCP_LISTEN),
        ("udp", "net/udp", parse::UDP_UNCONNECTED),
        ("udp6", "net/udp6", parse::UDP_UNCONNECTED),
    ] {
        match proc.read(file) {
            Ok(text) => {
                found.extend(parse::sockets(&text).into_iter().filter(|s| s.state == state).map(|s| (proto, s)))
            }
            Err(Unread { errno: Errno::ENOENT, .. }) => {}
            Err(e) => return e.value(),
        }
    }
    let owners = socket_owners(pid, &found.iter().map(|(_, s)| s.inode).collect::<Vec<_>>());
    let rows = found
        .iter()
        .map(|(proto, s)| {
            let local = match s.local {
                std::net::IpAddr::V4(a) => format!("{a}:{}", s.port),
                std::net::IpAddr::V6(a) => format!("[{a}]:{}", s.port),
            };
            let pids = owners.iter().filter(|(inode, _)| *inode == s.inode).map(|(_, p)| Value::Num(u64::from(*p)));
            vec![
                ("proto", Value::text(proto)),
                ("local", Value::Text(local)),
                ("uid", Value::Num(u64::from(s.uid))),
                ("inode", Value::Num(s.inode)),
                ("pids", Value::Words(pids.collect())),
            ]
        })
        .collect();
    Value::Table(rows)
}

/// (inode, pid) for each process we may look into that holds one of the
/// sockets: the process itself first, then every other.
fn socket_owners(pid: u32, inodes: &[u64]) -> Vec<(u64, u32)> {
    let mut owners = Vec::new();
    if inodes.is_empty() {
        return owners;
    }
    let mut pids = vec![pid];
    if let Ok(dir) = std::fs::read_dir("/proc") {
        pids.extend(dir.flatten().filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok()).filter(|&p| p != pid));
    }
    for p in pids {
        let Ok(fds) = std::fs::read_dir(format!("/proc/{p}/fd")) else { continue };
        for fd in fds.flatten() {
            let Ok(target) = std::fs::read_link(fd.path()) else { continue };
            let inode = target.to_str().and_then(|t| t.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok());
            if let Some(inode) = inode.filter(|i| inodes.contains(i)) {
                if !owners.contains(&(inode, p)) {
                    owners.push((inode, p));
                }
            }
        }
    }
    owners
}

fn environment(proc: &Proc, values: bool) -> std::result::Result<Fields, Unread> {
    let environ = proc.read_bytes("environ")?;
    let entries = environ.split(|&b| b == 0).filter(|e| !e.is_empty());
    let shown = entries
        .map(|entry| match values {
            true => Value::bytes(entry),
            false => Value::bytes(entry.split(|&b| b == b'=').next().unwrap_or(entry)),
        })
        .collect();
    Ok(vec![("variables", Value::Lines(shown))])
}

fn fds(proc: &Proc, list: bool) -> std::result::Result<Fields, Unread> {
    let path = proc.path("fd");
    let dir = std::fs::read_dir(&path).map_err(|e| Unread { path: path.clone(), errno: errno_of(&e) })?;
    // The kernel lists a process's fds in ascending order: no sort needed.
    let numbers: Vec<u64> = dir.flatten().filter_map(|e| e.file_name().to_str().and_then(|n| n.parse().ok())).collect();
    let mut fields: Fields = vec![("count", Value::Num(numbers.len() as u64))];
    if list {
        let rows = numbers
            .iter()
            .map(|fd| vec![("fd", Value::Num(*fd)), ("target", link_value(proc, &format!("fd/{fd}")))])
            .collect();
        fields.push(("open", Value::Table(rows)));
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_durations() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc(1_796_227_490), "2026-12-02T16:04:50Z");
        assert_eq!(duration(59), "59s");
        assert_eq!(duration(3_725), "1h02m");
        assert_eq!(duration(90_000), "1d01h");
    }

    #[test]
    fn namespace_links() {
        assert_eq!(namespace_id(b"net:[4026531833]"), Some(4_026_531_833));
        assert_eq!(namespace_id(b"net:[x]"), None);
    }
}
