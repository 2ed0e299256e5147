//! inspect against a real process with known facts: started by the test,
//! through setpriv, prlimit and unshare, into a known uid, gid and groups,
//! capabilities, no_new_privs, umask, rlimits, its own network and mount
//! namespaces with a read-only bind mount, listening sockets and a secret in
//! its environment. Every fact inspect reports is checked against another
//! tool's view of the same process: id inside it, capsh --decode, prlimit
//! --pid, findmnt -N, ss inside its network namespace, /proc/PID/status.

mod common;

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::Write;
use std::io::{BufRead, BufReader};
use std::os::unix::ffi::OsStringExt;
use std::process::{Child, Command, Output, Stdio};

use common::{applet, require_root, require_tool, text, TempDir};

const SECRET: &str = "hunter2-c0ffee-not-for-your-eyes";
const UID: u32 = 12345;
/// An argument that the text must escape and the JSON must still carry:
/// quote, backslash, tab, a control byte, bytes that are not UTF-8.
const ODD: &[u8] = b"a\"b\\c\td\x01e\xff\xfe}";
const GID: u32 = 23456;

/// The target's own program: it sets its umask, opens its sockets, runs id
/// (the oracle for its identity, from inside it) and says ready.
const TARGET: &str = r#"
import os, socket, subprocess, sys, time
os.umask(0o027)
t4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM); t4.bind(("127.0.0.1", 8080)); t4.listen(5)
t6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM); t6.bind(("::1", 8443)); t6.listen(5)
u4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u4.bind(("127.0.0.1", 5353))
print(subprocess.run(["id"], capture_output=True, text=True).stdout.strip(), flush=True)
print("ready", flush=True)
time.sleep(120)
"#;

/// The process under inspection; killed and reaped on drop.
struct Target {
    child: Child,
    pid: u32,
    /// What `id` printed inside it.
    id: String,
    _dir: TempDir,
    read_only: String,
}

impl Target {
    fn start() -> Target {
        let dir = TempDir::new("inspect");
        let read_only = dir.path().join("ro");
        std::fs::create_dir(&read_only).expect("mkdir ro");
        let ro = read_only.to_str().expect("utf-8 path").to_string();
        // Everything in the namespace is made before the credentials drop:
        // a veth pair with documentation addresses and a route, and the
        // read-only bind mount (private, so the host never sees it).
        let script = format!(
            "set -e; ip link set lo up; ip link add dummy0 type veth peer name peer0; ip link set dummy0 up; ip link set peer0 up; \
             ip addr add 192.0.2.2/24 dev dummy0; ip -6 addr add 2001:db8::2/64 dev dummy0 nodad; \
             ip route add 198.51.100.0/24 via 192.0.2.1; \
             mount --bind {ro} {ro}; mount -o remount,bind,ro {ro}; \
             exec prlimit --nofile=123:456 --nproc=77:88 --core=0:1000 -- \
             env -i PATH=/usr/bin:/bin INSPECT_SECRET={SECRET} \
             setpriv --reuid {UID} --regid {GID} --groups 4,20 \
             --inh-caps +net_bind_service,+kill --ambient-caps +net_bind_service,+kill \
             --bounding-set -all,+net_bind_service,+kill,+chown --no-new-privs -- \
             /usr/bin/python3 -c \"$0\" \"$1\""
        );
        let mut child = Command::new("unshare")
            .args(["--net", "--mount", "--propagation", "private", "--", "sh", "-c", &script, TARGET])
            .arg(OsString::from_vec(ODD.to_vec()))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn unshare");
        let pid = child.id();
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let id = lines.next().expect("id line").expect("read id");
        assert_eq!(lines.next().expect("ready line").expect("read"), "ready");
        Target { child, pid, id, _dir: dir, read_only: ro }
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn inspect(args: &[&str]) -> Output {
    Command::new(applet("inspect")).args(args).output().expect("run inspect")
}

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().expect(program);
    assert!(out.status.success(), "{program} {args:?}: {}", text(&out).1);
    text(&out).0
}

/// The report's text split into sections: name -> its lines, indented.
fn sections(report: &str) -> Vec<(String, Vec<String>)> {
    let mut found: Vec<(String, Vec<String>)> = Vec::new();
    for line in report.lines() {
        match (line.starts_with(' '), found.last_mut()) {
            (true, Some((_, lines))) => lines.push(line.to_string()),
            _ => found.push((line.to_string(), Vec::new())),
        }
    }
    found
}

fn section<'a>(all: &'a [(String, Vec<String>)], name: &str) -> &'a [String] {
    &all.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no section {name}: {all:?}")).1
}

/// The value of `  key  value` in a section.
fn field(lines: &[String], key: &str) -> String {
    let line = lines
        .iter()
        .find(|l| l.split_whitespace().next() == Some(key) && l.starts_with("  ") && !l.starts_with("   "))
        .unwrap_or_else(|| panic!("no field {key} in {lines:?}"));
    line.trim_start()[key.len()..].trim().to_string()
}

/// The rows of a table below `key` (or the section's own table): each the
/// cells split on blanks, the header skipped.
fn rows(lines: &[String], key: Option<&str>) -> Vec<Vec<String>> {
    let start = match key {
        Some(key) => lines.iter().position(|l| l.trim() == key).expect("table key") + 1,
        None => 0,
    };
    lines[start..]
        .iter()
        .take_while(|l| l.starts_with("    "))
        .skip(1)
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect()
}

fn status_field(pid: u32, key: &str) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .unwrap_or_else(|| panic!("no {key} in status"))
        .trim()
        .to_string()
}

fn tools(test: &str) -> bool {
    require_root(test)
        && ["unshare", "setpriv", "prlimit", "findmnt", "ss", "nsenter", "capsh", "ip"]
            .iter()
            .all(|tool| require_tool(test, tool))
        && std::path::Path::new("/usr/bin/python3").exists()
}

#[test]
fn every_fact_matches_its_oracle() {
    if !tools("every_fact_matches_its_oracle") {
        return;
    }
    let target = Target::start();
    let pid = target.pid.to_string();
    let out = inspect(&[&pid]);
    let (report, err) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(err, "", "inspect is silent on success");
    let all = sections(&report);

    // process
    let process = section(&all, "process");
    assert_eq!(field(process, "pid"), pid);
    assert_eq!(field(process, "ppid"), status_field(target.pid, "PPid"));
    // It sleeps, but may be caught running (a wake-up, a page fault): the
    // state is one the kernel showed, and the sleep it settles in.
    let state = field(process, "state");
    assert!(state == "S (sleeping)" || state == "R (running)", "{state}");
    assert_eq!(status_field(target.pid, "State"), "S (sleeping)");
    assert!(field(process, "command").starts_with("/usr/bin/python3 -c \\nimport os"), "{process:?}");
    assert!(field(process, "executable").starts_with("/usr/bin/python3"), "{process:?}");
    assert_eq!(field(process, "threads"), "1");

    // identity, against `id` run inside it: uid=12345 gid=23456 groups=23456,4(adm),20(dialout)
    let identity = section(&all, "identity");
    let id: Vec<&str> = target.id.split_whitespace().collect();
    let uid = id[0].strip_prefix("uid=").expect("uid=");
    let gid = id[1].strip_prefix("gid=").expect("gid=");
    assert_eq!(uid, UID.to_string(), "{}", target.id);
    assert_eq!(field(identity, "uid"), format!("real {uid}  effective {uid}  saved {uid}  fs {uid}"));
    assert_eq!(field(identity, "gid"), format!("real {gid}  effective {gid}  saved {gid}  fs {gid}"));
    let groups: Vec<&str> = id[2].strip_prefix("groups=").expect("groups=").split(',').filter(|g| *g != gid).collect();
    assert_eq!(field(identity, "groups"), groups.join(","));
    assert_eq!(field(identity, "groups"), "4(adm),20(dialout)");

    // privileges, against capsh --decode of the kernel's own masks
    let privileges = section(&all, "privileges");
    for (key, mask) in [
        ("effective", "CapEff"),
        ("permitted", "CapPrm"),
        ("inheritable", "CapInh"),
        ("bounding", "CapBnd"),
        ("ambient", "CapAmb"),
    ] {
        let hex = status_field(target.pid, mask);
        let decoded = run("capsh", &[&format!("--decode={hex}")]);
        let names = decoded.trim().split_once('=').map(|(_, names)| names).unwrap_or("");
        let want = if names.is_empty() { "none" } else { names };
        assert_eq!(field(privileges, key), want, "{key} ({hex})");
    }
    assert_eq!(field(privileges, "ambient"), "cap_kill,cap_net_bind_service");
    assert_eq!(field(privileges, "bounding"), "cap_chown,cap_kill,cap_net_bind_service");
    assert_eq!(field(privileges, "no_new_privs"), "yes");
    assert_eq!(status_field(target.pid, "NoNewPrivs"), "1");
    assert!(field(privileges, "seccomp").starts_with("mode disabled"), "{privileges:?}");

    // signals, against the kernel's masks named by bash's kill -l
    let signals = section(&all, "signals");
    for (key, mask) in [("blocked", "SigBlk"), ("ignored", "SigIgn"), ("caught", "SigCgt"), ("pending", "SigPnd")] {
        let bits = u64::from_str_radix(&status_field(target.pid, mask), 16).expect("hex mask");
        let names: Vec<String> = (1..=64u32)
            .filter(|n| bits & (1 << (n - 1)) != 0)
            .map(|n| match n {
                1..=31 => format!("SIG{}", run("bash", &["-c", &format!("kill -l {n}")]).trim()),
                n => format!("SIG{n}"),
            })
            .collect();
        let want = if names.is_empty() { "none".to_string() } else { names.join(",") };
        assert_eq!(field(signals, key), want, "{key}");
    }
    assert!(field(signals, "ignored").contains("SIGPIPE"), "python ignores SIGPIPE: {signals:?}");

    // limits, against prlimit --pid
    let limits = section(&all, "limits");
    let got: BTreeSet<(String, String, String)> =
        rows(limits, Some("rlimits")).into_iter().map(|row| (row[0].clone(), row[1].clone(), row[2].clone())).collect();
    // Reading another uid's limits needs CAP_SYS_RESOURCE, which this
    // machine's root may lack: prlimit asks as the target's own uid.
    let (u, g) = (UID.to_string(), GID.to_string());
    let oracle = ["--reuid", &u, "--regid", &g, "--clear-groups", "prlimit", "--pid", &pid];
    let want: BTreeSet<(String, String, String)> =
        run("setpriv", &[&oracle[..], &["--raw", "--noheadings", "-o", "RESOURCE,SOFT,HARD"]].concat())
            .lines()
            .map(|l| {
                let w: Vec<&str> = l.split_whitespace().collect();
                (w[0].to_ascii_lowercase(), w[1].to_string(), w[2].to_string())
            })
            .collect();
    assert_eq!(got, want);
    assert!(got.contains(&("nofile".into(), "123".into(), "456".into())), "{got:?}");
    assert!(got.contains(&("nproc".into(), "77".into(), "88".into())), "{got:?}");
    assert_eq!(field(limits, "umask"), "0027");
    assert_eq!(status_field(target.pid, "Umask"), "0027");

    // namespaces: its own network and mount namespaces, our PID and user ones
    let namespaces = rows(section(&all, "namespaces"), None);
    let shared = |kind: &str| namespaces.iter().find(|r| r[0] == kind).map(|r| r[2].clone());
    assert_eq!(shared("net").as_deref(), Some("no"));
    assert_eq!(shared("mnt").as_deref(), Some("no"));
    assert_eq!(shared("pid").as_deref(), Some("yes"));
    assert_eq!(shared("user").as_deref(), Some("yes"));
    for row in &namespaces {
        let link = std::fs::read_link(format!("/proc/{pid}/ns/{}", row[0])).expect("ns link");
        assert_eq!(link.to_string_lossy(), format!("{}:[{}]", row[0], row[1]));
    }

    // cgroup: its own file's lines, as they are
    let cgroup = section(&all, "cgroup");
    let at = cgroup.iter().position(|l| l.trim() == "paths").expect("paths");
    let paths: Vec<String> =
        cgroup[at + 1..].iter().take_while(|l| l.starts_with("    ")).map(|l| l.trim().to_string()).collect();
    let file = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).expect("cgroup");
    assert_eq!(paths, file.lines().collect::<Vec<_>>());

    // mounts, against findmnt -N: the same mount points, types and ro/rw, in
    // order. Other tests' containers come and go on this machine, and a
    // lazy unmount reaches the copy in its namespace too: the comparison
    // counts when findmnt said the same before and after inspect read it.
    let findmnt = || -> Vec<(String, String, bool)> {
        run("findmnt", &["-N", &pid, "--raw", "--noheadings", "-o", "TARGET,FSTYPE,VFS-OPTIONS,FS-OPTIONS"])
            .lines()
            .map(|l| {
                let w: Vec<&str> = l.split(' ').collect();
                let ro = w[2].split(',').chain(w.get(3).unwrap_or(&"").split(',')).any(|o| o == "ro");
                (w[0].to_string(), w[1].to_string(), ro)
            })
            .collect()
    };
    let inspected = || -> Vec<(String, String, bool)> {
        let all = sections(&text(&inspect(&[&pid])).0);
        rows(section(&all, "mounts"), None)
            .iter()
            .map(|r| (r[0].clone(), r[1].clone(), r[3].split(',').any(|f| f == "ro")))
            .collect()
    };
    let mut got = Vec::new();
    for attempt in 0.. {
        let before = findmnt();
        got = inspected();
        let after = findmnt();
        if before == after {
            assert_eq!(got, before);
            break;
        }
        assert!(attempt < 20, "the mount table never held still");
    }
    assert!(got.iter().any(|(point, _, ro)| *point == target.read_only && *ro), "{got:?}");

    // network, against ip and ss inside its namespace
    let network = section(&all, "network");
    let addresses: BTreeSet<String> = rows(network, Some("addresses")).iter().map(|r| r.join(" ")).collect();
    for want in ["lo 127.0.0.1/8", "lo ::1/128", "dummy0 192.0.2.2/24", "dummy0 2001:db8::2/64"] {
        assert!(addresses.contains(want), "{want} in {addresses:?}");
    }
    let route_lines: Vec<String> = {
        let at = network.iter().position(|l| l.trim() == "routes").expect("routes");
        network[at + 1..].iter().take_while(|l| l.starts_with("    ")).map(|l| l.trim().to_string()).collect()
    };
    let ip = run("nsenter", &["-t", &pid, "-n", "sh", "-c", "ip route; ip -6 route"]);
    let want: Vec<String> = ip
        .lines()
        .map(|l| {
            // What /proc/net/route does not hold: who added it, its source, its preference.
            let mut words: Vec<&str> = Vec::new();
            let mut skip = false;
            for w in l.split_whitespace() {
                if skip {
                    skip = false;
                } else if ["proto", "src", "pref"].contains(&w) {
                    skip = true;
                } else if w != "linkdown" {
                    words.push(w);
                }
            }
            words.join(" ")
        })
        .collect();
    assert_eq!(route_lines, want, "ip said:\n{ip}");
    assert!(route_lines.contains(&"198.51.100.0/24 via 192.0.2.1 dev dummy0".to_string()), "{route_lines:?}");

    let listening: BTreeSet<(String, String, String)> = rows(network, Some("listening"))
        .iter()
        .map(|r| (r[0].trim_end_matches('6').to_string(), r[1].clone(), r[4].clone()))
        .collect();
    let ss = run("nsenter", &["-t", &pid, "-n", "ss", "-ltnupH"]);
    let want: BTreeSet<(String, String, String)> = ss
        .lines()
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let owner = l.split("pid=").nth(1).and_then(|p| p.split(',').next()).unwrap_or("none");
            (w[0].to_string(), w[4].to_string(), owner.to_string())
        })
        .collect();
    assert_eq!(listening, want, "ss said:\n{ss}");
    assert_eq!(listening.len(), 3, "{listening:?}");

    // environment: names only, the secret's value nowhere
    let environment = section(&all, "environment");
    assert!(environment.iter().any(|l| l.trim() == "INSPECT_SECRET"), "{environment:?}");
    assert!(!report.contains(SECRET), "the secret leaked without --env");
    let with_env = inspect(&["--env", &pid]);
    assert!(text(&with_env).0.contains(&format!("INSPECT_SECRET={SECRET}")), "--env shows the values");

    // fds: the count, and with --fds the sockets
    let fds = section(&all, "fds");
    let count = std::fs::read_dir(format!("/proc/{pid}/fd")).expect("fd dir").count();
    assert_eq!(field(fds, "count"), count.to_string());
    let listed = text(&inspect(&["--fds", &pid])).0;
    assert!(listed.contains("socket:["), "{listed}");
}

/// Reads inspect's JSON with python3's json module (the real parser) and
/// prints, one per line, the values the text shows, spelled as the text
/// spells them.
const JSON_READER: &str = r#"
import json, sys
r = json.load(sys.stdin)
def v(x):
    if isinstance(x, bool): return "yes" if x else "no"
    if isinstance(x, dict) and "id" in x: return str(x["id"]) + ("(%s)" % x["name"] if x["name"] is not None else "")
    if isinstance(x, list): return ",".join(v(i) for i in x) if x else "none"
    if isinstance(x, dict): return "  ".join("%s %s" % (k, v(i)) for k, i in x.items())
    return str(x)
p = r["process"]
print("pid", r["pid"], p["pid"])
print("command", p["command"])
for k in ("uid", "gid", "groups"): print(k, v(r["identity"][k]))
for k in ("effective", "permitted", "inheritable", "bounding", "ambient", "no_new_privs", "seccomp"): print(k, v(r["privileges"][k]))
for l in r["limits"]["rlimits"]: print("rlimit", l["resource"], v(l["soft"]), v(l["hard"]), l["units"])
print("umask", r["limits"]["umask"])
for n in r["namespaces"]["namespaces"]: print("ns", n["type"], n["id"], v(n["shared"]))
for m in r["mounts"]["mounts"]: print("mount", m["point"], m["type"], m["source"], v(m["flags"]))
for a in r["network"]["addresses"]: print("address", a["dev"], a["address"])
for l in r["network"]["routes"]: print("route", l)
for s in r["network"]["listening"]: print("listen", s["proto"], s["local"], s["uid"], s["inode"], v(s["pids"]))
for e in r["environment"]["variables"]: print("env", e)
print("fds", r["fds"]["count"])
"#;

#[test]
fn json_parses_and_holds_the_same_values_as_the_text() {
    if !tools("json_parses_and_holds_the_same_values_as_the_text") {
        return;
    }
    let target = Target::start();
    let pid = target.pid.to_string();
    // Two runs, text then JSON: other tests' containers coming and going
    // can change the mount table in between, so a pair that differs is
    // tried again (a few times), never waved through.
    for env in [false, true] {
        for attempt in 0.. {
            let args: Vec<&str> = if env { vec!["--env", &pid] } else { vec![&pid] };
            let text_out = inspect(&args);
            let json_out = inspect(&[&["--json"][..], &args].concat());
            assert_eq!(json_out.status.code(), Some(0), "{}", text(&json_out).1);
            let mut python = Command::new("/usr/bin/python3")
                .args(["-c", JSON_READER])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("python3");
            python.stdin.take().expect("stdin").write_all(&json_out.stdout).expect("feed python");
            let read = python.wait_with_output().expect("python3");
            let (from_json, why) = text(&read);
            assert!(read.status.success(), "python3 could not read the JSON: {why}\n{}", text(&json_out).0);
            if !env {
                assert!(!text(&json_out).0.contains(SECRET), "the secret leaked into the JSON without --env");
            }

            // The same facts from the text.
            let report = text(&text_out).0;
            let all = sections(&report);
            let mut want =
                vec![format!("pid {pid} {pid}"), format!("command {}", field(section(&all, "process"), "command"))];
            for key in ["uid", "gid", "groups"] {
                want.push(format!("{key} {}", field(section(&all, "identity"), key)));
            }
            for key in ["effective", "permitted", "inheritable", "bounding", "ambient", "no_new_privs", "seccomp"] {
                want.push(format!("{key} {}", field(section(&all, "privileges"), key)));
            }
            let limits = section(&all, "limits");
            want.extend(
                rows(limits, Some("rlimits")).iter().map(|r| format!("rlimit {}", r.join(" ")).trim_end().to_string()),
            );
            want.push(format!("umask {}", field(limits, "umask")));
            want.extend(rows(section(&all, "namespaces"), None).iter().map(|r| format!("ns {}", r.join(" "))));
            want.extend(rows(section(&all, "mounts"), None).iter().map(|r| format!("mount {}", r.join(" "))));
            let network = section(&all, "network");
            want.extend(rows(network, Some("addresses")).iter().map(|r| format!("address {}", r.join(" "))));
            let at = network.iter().position(|l| l.trim() == "routes").expect("routes");
            want.extend(
                network[at + 1..].iter().take_while(|l| l.starts_with("    ")).map(|l| format!("route {}", l.trim())),
            );
            want.extend(rows(network, Some("listening")).iter().map(|r| format!("listen {}", r.join(" "))));
            let environment = section(&all, "environment");
            want.extend(environment.iter().skip(1).map(|l| format!("env {}", l.trim())));
            want.push(format!("fds {}", field(section(&all, "fds"), "count")));

            let got: Vec<String> = from_json.lines().map(|l| l.trim_end().to_string()).collect();
            let differs = |l: &String| !l.starts_with("mount ");
            if got != want && attempt < 4 && got.iter().filter(|l| differs(l)).eq(want.iter().filter(|l| differs(l))) {
                continue;
            }
            assert_eq!(got, want, "--json{}", if env { " --env" } else { "" });
            // The odd argument, escaped once, the same in both.
            assert!(got[1].ends_with(" a\"b\\\\c\\td\\x01e\\xff\\xfe}"), "{}", got[1]);
            if env {
                assert!(got.contains(&format!("env INSPECT_SECRET={SECRET}")), "{got:?}");
            }
            break;
        }
    }
}

#[test]
fn an_unreadable_section_says_why_and_the_rest_prints() {
    if !require_root("an_unreadable_section_says_why_and_the_rest_prints")
        || !require_tool("an_unreadable_section_says_why_and_the_rest_prints", "setpriv")
    {
        return;
    }
    // Our own PID (a root process) looked at as nobody.
    let me = std::process::id().to_string();
    let out = Command::new("setpriv")
        .args(["--reuid", "65534", "--regid", "65534", "--clear-groups", "--"])
        .arg(applet("inspect"))
        .arg(&me)
        .output()
        .expect("run setpriv");
    let (report, err) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let environment: Vec<&str> = report.lines().filter(|l| l.starts_with("environment")).collect();
    assert_eq!(environment.len(), 1, "{report}");
    assert!(environment[0].starts_with("environment: unreadable: "), "{report}");
    assert!(environment[0].contains("permission denied (needs CAP_SYS_PTRACE and CAP_DAC_OVERRIDE"), "{report}");
    assert!(environment[0].contains("run as root, or as uid 0)"), "{report}");
    assert!(report.lines().any(|l| l.starts_with("fds: unreadable: ")), "{report}");
    // What status gives anyone is still there.
    assert!(report.contains(&format!("  pid         {me}\n")), "{report}");
    // Its own /etc/passwd is behind /proc/PID/root: the ids without names, and why.
    assert!(report.contains("  uid     real 0  effective 0  saved 0  fs 0\n"), "{report}");
    assert!(report.contains("  passwd  unreadable: "), "{report}");
}

#[test]
fn a_missing_pid_exits_1_with_one_line() {
    // Above pid_max (at most 2^22), so never a process.
    let out = inspect(&["99999999"]);
    let (report, err) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(report, "");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("inspect: no process 99999999"), "{err}");
    assert!(err.contains("share its PID namespace"), "{err}");
}

#[test]
fn pid_1_by_default_and_help() {
    let out = inspect(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    assert!(text(&out).0.contains("  pid         1\n"), "{}", text(&out).0);
    let help = inspect(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(text(&help).0.contains("--json"));
}
