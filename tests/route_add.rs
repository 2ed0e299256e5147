//! route-add against the real kernel: every test in a network namespace of
//! its own with a veth pair, documentation prefixes only, no traffic.
//! iproute2 is the oracle: what route-add did is read back with `ip -j`, and
//! what `route-add --list` prints is compared with what `ip route` prints.

mod common;

use std::process::Output;

use common::*;

/// A namespace with v0 (198.51.100.2/24, 2001:db8:1::2/64) and its peer v1,
/// both up, and settled: IPv6 adds its local routes only once duplicate
/// address detection is over, so DAD is off and the setup waits for them.
/// Otherwise the kernel itself would change the table under the tests that
/// compare it before and after.
fn lab(test: &str) -> Option<Netns> {
    if !require_root(test) || !require_tool(test, "ip") {
        return None;
    }
    let ns = Netns::new();
    ns.sh("sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 && \
         ip link add v0 type veth peer name v1 && ip link set v0 up && ip link set v1 up && \
         ip addr add 198.51.100.2/24 dev v0 && ip -6 addr add 2001:db8:1::2/64 dev v0 nodad");
    for _ in 0..100 {
        let local = ns.sh("ip -6 route show table local");
        if local.contains("local 2001:db8:1::2 dev v0") && local.matches("local fe80::").count() == 2 {
            return Some(ns);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("{test}: the namespace's IPv6 routes never settled: {}", ns.routes());
}

fn route_add(ns: &Netns, args: &[&str]) -> Output {
    ns.run(applet("route-add"), args)
}

/// Runs route-add and insists on exit 0.
fn ok(ns: &Netns, args: &[&str]) -> String {
    let out = route_add(ns, args);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "route-add {args:?}: {stderr}");
    stdout
}

/// Every route of every table, IPv4 and IPv6, as iproute2 reports them.
fn json_routes(ns: &Netns) -> Vec<Json> {
    match Json::parse(&ns.sh("ip -j route show table all")) {
        Json::Arr(routes) => routes,
        other => panic!("ip -j gave {other:?}"),
    }
}

/// The routes whose destination is `dst`, in any table.
fn routes_to(ns: &Netns, dst: &str) -> Vec<Json> {
    json_routes(ns).into_iter().filter(|r| r.str("dst") == Some(dst)).collect()
}

/// The one route to `dst`; fails unless there is exactly one.
fn the_route(ns: &Netns, dst: &str) -> Json {
    let mut found = routes_to(ns, dst);
    assert_eq!(found.len(), 1, "one route to {dst}: {found:?}");
    found.remove(0)
}

#[test]
fn ipv4_via_a_gateway() {
    let Some(ns) = lab("ipv4_via_a_gateway") else { return };
    let out = route_add(&ns, &["203.0.113.0/24", "via", "198.51.100.1"]);
    assert_eq!(out.status.code(), Some(0));
    let (_, stderr) = text(&out);
    assert_eq!(stderr, "", "silent on success, as ip is");
    let info = ns.run(
        "env",
        [
            "HARDBOX_LOG=info".as_ref(),
            applet("route-add").as_os_str(),
            "203.0.113.0/24".as_ref(),
            "via".as_ref(),
            "198.51.100.1".as_ref(),
        ],
    );
    assert_eq!(text(&info).1, "route-add: set 203.0.113.0/24 via 198.51.100.1\n");
    let route = the_route(&ns, "203.0.113.0/24");
    assert_eq!(route.str("gateway"), Some("198.51.100.1"));
    assert_eq!(route.str("dev"), Some("v0"));
    assert_eq!(route.str("table"), None, "main table");
    assert_eq!(route.str("protocol"), None, "proto boot, as ip route replace makes it");
    let quiet = ns.run("env", [std::ffi::OsStr::new("HARDBOX_LOG=quiet"), applet("route-add").as_os_str()]);
    assert_refused(&quiet, "route-add", "missing destination");
    let quiet = ns.run(
        "env",
        ["HARDBOX_LOG=quiet", applet("route-add").to_str().expect("utf-8"), "203.0.113.0/24", "via", "198.51.100.1"],
    );
    assert_eq!(text(&quiet), (String::new(), String::new()), "quiet: nothing on success");
}

#[test]
fn ipv6_via_a_gateway_with_a_metric() {
    let Some(ns) = lab("ipv6_via_a_gateway_with_a_metric") else { return };
    ok(&ns, &["2001:db8:2::/48", "via", "2001:db8:1::1", "metric", "7"]);
    let route = the_route(&ns, "2001:db8:2::/48");
    assert_eq!(route.str("gateway"), Some("2001:db8:1::1"));
    assert_eq!(route.str("dev"), Some("v0"));
    assert_eq!(route.num("metric"), Some(7.0));
}

#[test]
fn dev_only_makes_a_link_scope_route() {
    let Some(ns) = lab("dev_only_makes_a_link_scope_route") else { return };
    ok(&ns, &["192.0.2.0/24", "dev", "v0"]);
    let route = the_route(&ns, "192.0.2.0/24");
    assert_eq!(route.str("gateway"), None);
    assert_eq!(route.str("dev"), Some("v0"));
    assert_eq!(route.str("scope"), Some("link"));
    ok(&ns, &["192.0.2.9", "dev", "v0"]);
    assert_eq!(the_route(&ns, "192.0.2.9").str("dev"), Some("v0"), "a bare address is a host route");
}

#[test]
fn default_routes_take_their_family_from_the_gateway_or_the_flag() {
    let Some(ns) = lab("default_routes_take_their_family_from_the_gateway_or_the_flag") else { return };
    ok(&ns, &["default", "via", "198.51.100.1"]);
    ok(&ns, &["default", "via", "2001:db8:1::1", "metric", "5"]);
    let defaults = routes_to(&ns, "default");
    assert_eq!(defaults.len(), 2, "{defaults:?}");
    assert!(defaults.iter().any(|r| r.str("gateway") == Some("198.51.100.1")));
    assert!(defaults.iter().any(|r| r.str("gateway") == Some("2001:db8:1::1") && r.num("metric") == Some(5.0)));

    ok(&ns, &["-6", "default", "dev", "v0", "table", "60"]);
    let table60: Vec<Json> = routes_to(&ns, "default").into_iter().filter(|r| r.str("table") == Some("60")).collect();
    assert_eq!(table60.len(), 1);
    assert_eq!(table60[0].str("pref"), Some("medium"), "an IPv6 route (only IPv6 routes have pref)");
    ok(&ns, &["default", "dev", "v0", "table", "61"]);
    let v4 = ns.sh("ip -4 route show table 61");
    assert_eq!(v4.trim(), "default dev v0 scope link", "without -6, default with dev only is IPv4");
}

#[test]
fn tables_100_and_1000_and_names() {
    let Some(ns) = lab("tables_100_and_1000_and_names") else { return };
    ok(&ns, &["203.0.113.0/24", "via", "198.51.100.1", "table", "100"]);
    ok(&ns, &["203.0.113.0/24", "via", "198.51.100.1", "table", "1000"]);
    ok(&ns, &["203.0.113.0/24", "via", "198.51.100.1", "table", "main"]);
    ok(&ns, &["2001:db8:7::/48", "via", "2001:db8:1::1", "table", "4000000000"]);
    let tables: Vec<Option<String>> =
        routes_to(&ns, "203.0.113.0/24").iter().map(|r| r.str("table").map(str::to_string)).collect();
    assert_eq!(tables.len(), 3, "{tables:?}");
    for want in [Some("100"), Some("1000"), None] {
        assert!(tables.iter().any(|t| t.as_deref() == want), "table {want:?} in {tables:?}");
    }
    assert_eq!(the_route(&ns, "2001:db8:7::/48").str("table"), Some("4000000000"));
}

#[test]
fn src_mtu_and_metric_become_attributes() {
    let Some(ns) = lab("src_mtu_and_metric_become_attributes") else { return };
    ok(&ns, &["203.0.113.0/24", "via", "198.51.100.1", "src", "198.51.100.2", "mtu", "1400", "metric", "42"]);
    let route = the_route(&ns, "203.0.113.0/24");
    assert_eq!(route.str("prefsrc"), Some("198.51.100.2"));
    assert_eq!(route.num("metric"), Some(42.0));
    assert_eq!(route.get("metrics").and_then(|m| m.index(0)).and_then(|m| m.num("mtu")), Some(1400.0));
    ok(&ns, &["2001:db8:8::/48", "via", "2001:db8:1::1", "mtu", "1280"]);
    let route = the_route(&ns, "2001:db8:8::/48");
    assert_eq!(route.get("metrics").and_then(|m| m.index(0)).and_then(|m| m.num("mtu")), Some(1280.0));
}

#[test]
fn onlink_reaches_a_gateway_outside_every_connected_network() {
    let Some(ns) = lab("onlink_reaches_a_gateway_outside_every_connected_network") else { return };
    let before = ns.routes();
    let out = route_add(&ns, &["192.0.2.0/24", "via", "203.0.113.9", "dev", "v0"]);
    assert_refused(&out, "route-add", "192.0.2.0/24 via 203.0.113.9 dev v0: network is unreachable (the gateway is on no connected network: add a route to it first, or use onlink)");
    assert_eq!(ns.routes(), before);
    ok(&ns, &["192.0.2.0/24", "via", "203.0.113.9", "dev", "v0", "onlink"]);
    let route = the_route(&ns, "192.0.2.0/24");
    assert_eq!(route.str("gateway"), Some("203.0.113.9"));
    assert_eq!(route.get("flags"), Some(&Json::Arr(vec![Json::Str("onlink".into())])));
}

#[test]
fn replacing_twice_leaves_one_route_with_the_new_values() {
    let Some(ns) = lab("replacing_twice_leaves_one_route_with_the_new_values") else { return };
    for _ in 0..2 {
        ok(&ns, &["203.0.113.0/24", "via", "198.51.100.1"]);
        assert_eq!(routes_to(&ns, "203.0.113.0/24").len(), 1);
    }
    ok(&ns, &["203.0.113.0/24", "via", "198.51.100.3", "mtu", "1500"]);
    let route = the_route(&ns, "203.0.113.0/24");
    assert_eq!(route.str("gateway"), Some("198.51.100.3"), "replace changes the gateway in place");
    for _ in 0..2 {
        ok(&ns, &["2001:db8:2::/48", "via", "2001:db8:1::1"]);
        assert_eq!(routes_to(&ns, "2001:db8:2::/48").len(), 1);
    }
}

#[test]
fn no_replace_refuses_an_existing_route_and_changes_nothing() {
    let Some(ns) = lab("no_replace_refuses_an_existing_route_and_changes_nothing") else { return };
    ok(&ns, &["--no-replace", "203.0.113.0/24", "via", "198.51.100.1"]);
    let before = ns.routes();
    let out = route_add(&ns, &["--no-replace", "203.0.113.0/24", "via", "198.51.100.3"]);
    assert_refused(&out, "route-add", "203.0.113.0/24 via 198.51.100.3: the route exists already");
    assert_eq!(ns.routes(), before);
    assert_eq!(the_route(&ns, "203.0.113.0/24").str("gateway"), Some("198.51.100.1"));
}

#[test]
fn delete_removes_the_route_and_a_second_delete_is_an_error() {
    let Some(ns) = lab("delete_removes_the_route_and_a_second_delete_is_an_error") else { return };
    let empty = ns.routes();
    ok(&ns, &["203.0.113.0/24", "via", "198.51.100.1", "table", "1000"]);
    ok(&ns, &["2001:db8:2::/48", "via", "2001:db8:1::1"]);
    ok(&ns, &["--delete", "203.0.113.0/24", "table", "1000"]);
    ok(&ns, &["--delete", "2001:db8:2::/48", "via", "2001:db8:1::1"]);
    assert_eq!(ns.routes(), empty, "both routes gone, nothing else touched");
    let out = route_add(&ns, &["--delete", "203.0.113.0/24", "table", "1000"]);
    assert_refused(&out, "route-add", "203.0.113.0/24 table 1000: no such route to delete");
    assert_eq!(ns.routes(), empty);
}

#[test]
fn a_failed_step_leaves_the_table_as_it_was_and_says_one_line() {
    let Some(ns) = lab("a_failed_step_leaves_the_table_as_it_was_and_says_one_line") else { return };
    ok(&ns, &["203.0.113.0/24", "via", "198.51.100.1"]);
    ns.sh("ip link add v2 type veth peer name v3");
    let before = ns.routes();
    let cases: &[(&[&str], &str)] = &[
        // the grammar
        (&[], "missing destination"),
        (&["10.0.0.1/8", "via", "198.51.100.1"], "did you mean 10.0.0.0/8?"),
        (&["2001:db8::1/32", "dev", "v0"], "did you mean 2001:db8::/32?"),
        (
            &["10.0.0.0/8"],
            "10.0.0.0/8: says neither where to send (via GATEWAY) nor out of which interface (dev IFACE)",
        ),
        (&["10.0.0.0/33", "dev", "v0"], "10.0.0.0/33"),
        (&["10.0.0.300/32", "dev", "v0"], "10.0.0.300/32"),
        (&["banana", "dev", "v0"], "\"banana\""),
        (&["10.0.0.0/8", "via", "2001:db8:1::1"], "via 2001:db8:1::1 is IPv6, but destination 10.0.0.0/8 is IPv4"),
        (&["2001:db8::/32", "via", "198.51.100.1"], "via 198.51.100.1 is IPv4"),
        (&["10.0.0.0/8", "dev", "v0", "src", "2001:db8:1::2"], "src 2001:db8:1::2 is IPv6"),
        (&["-6", "10.0.0.0/8", "dev", "v0"], "-6"),
        (&["10.0.0.0/8", "via", "198.51.100.1", "via", "198.51.100.3"], "via given twice"),
        (&["10.0.0.0/8", "dev", "v0", "dev", "v1"], "dev given twice"),
        (&["10.0.0.0/8", "via"], "via needs a value"),
        (&["10.0.0.0/8", "dev", ""], "dev needs a value"),
        (&["", "dev", "v0"], "destination \"\""),
        (&["10.0.0.0/8", "dev", "v0", "metric", "-1"], "metric \"-1\""),
        (&["10.0.0.0/8", "dev", "v0", "metric", "4294967296"], "metric \"4294967296\""),
        (&["10.0.0.0/8", "dev", "v0", "metric", "5x"], "metric \"5x\""),
        (&["10.0.0.0/8", "dev", "v0", "table", "0"], "table \"0\""),
        (&["10.0.0.0/8", "dev", "v0", "table", "lokal"], "table \"lokal\""),
        (&["10.0.0.0/8", "dev", "v0", "mtu", "40"], "mtu \"40\""),
        (&["10.0.0.0/8", "dev", "v0", "mtu", "70000"], "mtu \"70000\""),
        (&["10.0.0.0/8", "dev", "v0", "bogus"], "unexpected \"bogus\""),
        (&["10.0.0.0/8", "via", "198.51.100.1", "onlink"], "onlink needs both via GATEWAY and dev IFACE"),
        (&["10.0.0.0/8", "via", "0.0.0.0"], "via 0.0.0.0"),
        (&["2001:db8::/32", "via", "fe80::1"], "via fe80::1 is link-local"),
        (&["10.0.0.0/8", "dev", "this-name-is-too-long"], "this-name-is-too-long"),
        // the options
        (&["-4", "-6", "default", "dev", "v0"], "-4 and -6 exclude each other"),
        (&["--delete", "--no-replace", "10.0.0.0/8", "dev", "v0"], "--delete and --no-replace"),
        (&["--table", "100", "10.0.0.0/8", "dev", "v0"], "--table belongs to --list"),
        (&["--list", "10.0.0.0/8"], "--list takes no route"),
        (&["--list", "--table", "nope"], "table \"nope\""),
        (&["--frobnicate"], "--frobnicate"),
        // what only the kernel knows
        (
            &["10.0.0.0/8", "via", "198.51.100.1", "dev", "eth9"],
            "no interface named eth9 (there are: lo, v1, v0, v3, v2)",
        ),
        (&["10.0.0.0/8", "via", "192.0.2.1"], "10.0.0.0/8 via 192.0.2.1: network is unreachable (the gateway is on no"),
        (&["2001:db8:9::/48", "via", "2001:db8:5::1"], "no route to host (the gateway is on no connected network"),
        (&["10.0.0.0/8", "dev", "v2"], "10.0.0.0/8 dev v2: network is down (the interface is down: bring it up first)"),
        (
            &["10.0.0.0/8", "via", "198.51.100.1", "src", "203.0.113.5"],
            "invalid argument (kernel: Invalid prefsrc address)",
        ),
        (&["--no-replace", "203.0.113.0/24", "via", "198.51.100.1"], "the route exists already"),
        (&["--delete", "198.18.0.0/15"], "198.18.0.0/15: no such route to delete"),
        (&["--delete", "203.0.113.0/24", "via", "198.51.100.99"], "no such route to delete"),
    ];
    assert!(cases.len() >= 25);
    for (args, needle) in cases {
        let out = route_add(&ns, args);
        assert_refused(&out, "route-add", needle);
        assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout");
        assert_eq!(ns.routes(), before, "{args:?} changed the routing table");
    }
}

#[test]
fn without_cap_net_admin_it_says_so_and_changes_nothing() {
    let Some(ns) = lab("without_cap_net_admin_it_says_so_and_changes_nothing") else { return };
    if !require_tool("without_cap_net_admin_it_says_so_and_changes_nothing", "setpriv") {
        return;
    }
    let before = ns.routes();
    let unprivileged = |args: &[&str]| {
        let mut all =
            vec!["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all"];
        all.push("--");
        let route_add = applet("route-add");
        all.push(route_add.to_str().expect("utf-8 path"));
        all.extend_from_slice(args);
        ns.run("setpriv", &all)
    };
    let out = unprivileged(&["10.0.0.0/8", "via", "198.51.100.1"]);
    assert_refused(
        &out,
        "route-add",
        "route-add: 10.0.0.0/8 via 198.51.100.1: operation not permitted (needs CAP_NET_ADMIN: docker run --cap-add NET_ADMIN)",
    );
    assert_eq!(ns.routes(), before);
    let out = unprivileged(&["--delete", "198.51.100.0/24"]);
    assert_refused(&out, "route-add", "needs CAP_NET_ADMIN");
    assert_eq!(ns.routes(), before);
    let out = unprivileged(&["--list"]);
    assert_eq!(out.status.code(), Some(0), "reading the table needs no privilege: {:?}", text(&out).1);
    assert!(text(&out).0.contains("198.51.100.0/24 dev v0 proto kernel scope link src 198.51.100.2"));
}

/// A namespace holding every kind of route the kernel makes or ip can add,
/// so the listing is compared on more than the easy cases.
fn busy_lab(test: &str) -> Option<Netns> {
    let ns = lab(test)?;
    ns.sh("ip link add v2 type veth peer name v3 && ip addr add 203.0.113.50/24 dev v2 && ip link set v2 up && \
         ip route add 192.0.2.64/26 via 203.0.113.1 dev v2 && \
         ip route add 192.0.2.0/28 via 198.51.100.1 mtu lock 1400 advmss 1360 rtt 12ms rttvar 3s hoplimit 9 \
            initcwnd 10 features ecn congctl cubic && \
         ip route add 192.0.2.128/28 via 198.51.100.1 rtt 1500ms rto_min 20ms window 1000 ssthresh 3 cwnd 5 \
            reordering 4 initrwnd 6 quickack 1 && \
         ip route add blackhole 192.0.2.16/28 && ip route add unreachable 192.0.2.48/28 metric 9 && \
         ip route add prohibit 192.0.2.96/28 && ip route add throw 192.0.2.112/28 table 7 && \
         ip route add 192.0.2.32/28 via 198.51.100.1 proto static && \
         ip route add 192.0.2.80/28 via 198.51.100.1 realm 5 && \
         ip route add 192.0.2.144/28 via 198.51.100.1 realms 3/4 proto 77 scope 7 && \
         ip route add 192.0.2.160/28 dev v0 scope host table 5000 && \
         ip route add 192.0.2.176/28 via 198.51.100.1 tos 0x10 && \
         ip -6 route add unreachable 2001:db8:dead::/48 && \
         ip -6 route add 2001:db8:3::/48 via 2001:db8:1::1 pref high && \
         ip -6 route add 2001:db8:5::/48 via 2001:db8:1::1 pref low proto 99 && \
         ip -6 route add 2001:db8:4::/48 from 2001:db8:1::/64 via 2001:db8:1::1");
    // And the ones route-add makes itself.
    ok(&ns, &["203.0.113.0/24", "via", "198.51.100.1", "dev", "v0", "metric", "5"]);
    ok(&ns, &["198.18.0.0/15", "dev", "v0", "table", "100"]);
    ok(&ns, &["198.18.0.0/15", "via", "198.51.100.1", "table", "1000", "mtu", "1400", "src", "198.51.100.2"]);
    ok(&ns, &["default", "via", "198.51.100.1"]);
    ok(&ns, &["192.0.2.7", "via", "203.0.113.9", "dev", "v0", "onlink"]);
    ok(&ns, &["2001:db8:2::/48", "via", "2001:db8:1::1", "metric", "7", "mtu", "1300"]);
    ok(&ns, &["default", "via", "2001:db8:1::1", "table", "1000"]);
    Some(ns)
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(|line| line.trim_end().to_string()).collect()
}

#[test]
fn list_matches_ip_route_line_for_line() {
    let Some(ns) = busy_lab("list_matches_ip_route_line_for_line") else { return };
    let cases: &[(&[&str], &str)] = &[
        (&["--list", "--table", "all"], "ip route show table all"),
        (&["--list"], "ip route; ip -6 route"),
        (&["--list", "-4"], "ip -4 route"),
        (&["--list", "-6"], "ip -6 route"),
        (&["--list", "--table", "1000"], "ip route show table 1000; ip -6 route show table 1000"),
        (&["--list", "-4", "--table", "local"], "ip -4 route show table local"),
        (&["--list", "-6", "--table", "local"], "ip -6 route show table local"),
        (&["--list", "-4", "--table", "all"], "ip -4 route show table all"),
        (&["--list", "-6", "--table", "all"], "ip -6 route show table all"),
        (&["--list", "-4", "--table", "5000"], "ip -4 route show table 5000"),
        (&["--list", "-4", "--table", "7"], "ip -4 route show table 7"),
    ];
    for (args, oracle) in cases {
        let mine = lines(&ok(&ns, args));
        let theirs = lines(&ns.sh(oracle));
        assert_eq!(mine, theirs, "route-add {args:?} against {oracle}");
    }
    assert!(lines(&ok(&ns, &["--list", "--table", "all"])).len() > 30, "the busy table is busy");
    // ip says "FIB table does not exist" here; a table with no routes is simply empty.
    assert_eq!(ok(&ns, &["--list", "--table", "4242"]), "");
}

/// The same listing, checked route by route against iproute2's JSON: each
/// field ip reports must be in our line, in ip's order and words.
#[test]
fn list_agrees_with_ip_json_route_by_route() {
    let Some(ns) = busy_lab("list_agrees_with_ip_json_route_by_route") else { return };
    let mine = lines(&ok(&ns, &["--list", "--table", "all"]));
    let routes = json_routes(&ns);
    assert_eq!(mine.len(), routes.len(), "as many routes as ip -j reports:\n{}", mine.join("\n"));
    for (line, route) in mine.iter().zip(&routes) {
        // ip's JSON drops a metric's `lock`; the text comparison above covers it.
        assert_eq!(line.replace(" lock ", " "), expected_line(route), "from {route:?}");
    }
}

/// What `ip route` prints for one route of `ip -j route show table all`,
/// built from the JSON fields alone. Fails on a field it does not know, so
/// a kind of route this test never thought of cannot pass unseen.
fn expected_line(route: &Json) -> String {
    let Json::Obj(fields) = route else { panic!("not an object: {route:?}") };
    let mut words: Vec<String> = Vec::new();
    for (key, value) in fields {
        let word = |name: &str| format!("{name} {}", value.scalar());
        match key.as_str() {
            "type" | "dst" => words.push(value.scalar()),
            "from" => words.push(word("from")),
            "tos" => words.push(word("tos")),
            "gateway" => words.push(word("via")),
            "dev" => words.push(word("dev")),
            "table" => words.push(word("table")),
            "protocol" => words.push(word("proto")),
            "scope" => words.push(word("scope")),
            "prefsrc" => words.push(word("src")),
            "metric" => words.push(word("metric")),
            "pref" => words.push(word("pref")),
            "flags" => {
                let Json::Arr(flags) = value else { panic!("flags: {value:?}") };
                words.extend(flags.iter().map(Json::scalar));
            }
            "flow" => {
                let (from, to) = (value.str("from"), value.str("to"));
                words.push(match from {
                    Some(from) => format!("realms {from}/{}", to.unwrap_or("cosmos")),
                    None => format!("realm {}", to.unwrap_or("cosmos")),
                });
            }
            "metrics" => {
                let Some(Json::Obj(metrics)) = value.index(0) else { panic!("metrics: {value:?}") };
                for (name, v) in metrics {
                    // ip's JSON gives times in ms; its text turns a second or more into seconds.
                    words.push(match (name.as_str(), v) {
                        ("ecn", _) => "features ecn".to_string(),
                        ("congestion", _) => format!("congctl {}", v.scalar()),
                        ("rtt" | "rttvar" | "rto_min", Json::Num(ms)) if *ms >= 1000.0 => {
                            format!("{name} {}s", ms / 1000.0)
                        }
                        ("rtt" | "rttvar" | "rto_min", _) => format!("{name} {}ms", v.scalar()),
                        _ => format!("{name} {}", v.scalar()),
                    });
                }
            }
            other => panic!("a route field this test does not know: {other} in {route:?}"),
        }
    }
    words.join(" ")
}

#[test]
fn help_names_the_grammar() {
    let out = std::process::Command::new(applet("route-add")).arg("--help").output().expect("run route-add");
    assert_eq!(out.status.code(), Some(0));
    let (usage, _) = text(&out);
    for word in ["--no-replace", "--delete", "--list", "--table", "via GW", "dev IFACE", "onlink", "-4", "-6"] {
        assert!(usage.contains(word), "--help mentions {word}: {usage}");
    }
}

/// Just enough JSON for what `ip -j` prints.
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    fn parse(text: &str) -> Json {
        let mut chars = text.trim().chars().peekable();
        let value = Json::value(&mut chars);
        assert!(chars.next().is_none(), "trailing text after JSON: {text}");
        value
    }

    fn value(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Json {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.next() {
            Some('{') => {
                let mut fields = Vec::new();
                if chars.peek() == Some(&'}') {
                    chars.next();
                    return Json::Obj(fields);
                }
                loop {
                    match Json::value(chars) {
                        Json::Str(key) => {
                            assert_eq!(chars.next(), Some(':'));
                            fields.push((key, Json::value(chars)));
                        }
                        other => panic!("object key {other:?}"),
                    }
                    match chars.next() {
                        Some(',') => continue,
                        Some('}') => return Json::Obj(fields),
                        other => panic!("in object: {other:?}"),
                    }
                }
            }
            Some('[') => {
                let mut items = Vec::new();
                if chars.peek() == Some(&']') {
                    chars.next();
                    return Json::Arr(items);
                }
                loop {
                    items.push(Json::value(chars));
                    match chars.next() {
                        Some(',') => continue,
                        Some(']') => return Json::Arr(items),
                        other => panic!("in array: {other:?}"),
                    }
                }
            }
            Some('"') => {
                let mut s = String::new();
                loop {
                    match chars.next().expect("unterminated string") {
                        '"' => return Json::Str(s),
                        '\\' => match chars.next().expect("escape") {
                            'n' => s.push('\n'),
                            't' => s.push('\t'),
                            c => s.push(c),
                        },
                        c => s.push(c),
                    }
                }
            }
            Some(c) => {
                let mut word = c.to_string();
                while chars.peek().is_some_and(|c| c.is_ascii_alphanumeric() || ".-+".contains(*c)) {
                    word.push(chars.next().expect("peeked"));
                }
                match word.as_str() {
                    "null" => Json::Null,
                    "true" => Json::Bool(true),
                    "false" => Json::Bool(false),
                    n => Json::Num(n.parse().unwrap_or_else(|_| panic!("JSON word {n:?}"))),
                }
            }
            None => Json::Null,
        }
    }

    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn index(&self, i: usize) -> Option<&Json> {
        match self {
            Json::Arr(items) => items.get(i),
            _ => None,
        }
    }

    fn str(&self, key: &str) -> Option<&str> {
        match self.get(key) {
            Some(Json::Str(s)) => Some(s),
            _ => None,
        }
    }

    fn num(&self, key: &str) -> Option<f64> {
        match self.get(key) {
            Some(Json::Num(n)) => Some(*n),
            _ => None,
        }
    }

    /// A string or number as ip's text shows it.
    fn scalar(&self) -> String {
        match self {
            Json::Str(s) => s.clone(),
            Json::Num(n) => n.to_string(),
            other => panic!("not a scalar: {other:?}"),
        }
    }
}
