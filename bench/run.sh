#!/usr/bin/env bash
# One benchmark run that puts hardbox beside every tool it replaces, and
# writes bench/RESULTS.md from it. Not a test and not run by CI.
#
# Usage (as root): bash bench/run.sh
#   BENCH_QUICK=1   few runs of each row, to check the harness itself
#   BENCH_OUT=FILE  write the results elsewhere (default bench/RESULTS.md)
#
# Installs the peers when missing, builds hardbox's release binary, and
# measures: binary size; supervised start; the init's resident memory as PID 1;
# signal forwarding latency; reaping orphans; privilege drop; namespace entry;
# routes; a health check. Routes and namespace entry happen only inside namespaces this script
# makes (documentation prefixes only, no traffic) and removes on exit; it ends
# only processes it started, by pid.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

if [[ $(id -u) -ne 0 ]]; then
  echo "bench: run as root (routes, namespaces and privilege drop need it)" >&2
  exit 1
fi

if [[ -n ${BENCH_QUICK:-} ]]; then
  warmup=2 runs=10 loop_warmup=0 loop_runs=2 signals=100 orphans=1000 mem_reps=1 reap_reps=2
else
  warmup=20 runs=200 loop_warmup=2 loop_runs=20 signals=1000 orphans=10000 mem_reps=10 reap_reps=20
fi
reap_timeout_ms=3000
out=${BENCH_OUT:-$repo/bench/RESULTS.md}
work=$repo/target/bench
run=$work/run
log=$run/log
rows=$run/rows.tsv
rm -rf "$run"
mkdir -p "$run"
: >"$rows"

say() { echo "bench: $*" >&2; }

# ---------------------------------------------------------------- cleanup
# Background jobs are this script's own children, each an `unshare
# --kill-child`, so ending one ends the PID namespace it made.
ns=""
cleanup() {
  local pid
  for pid in $(jobs -p); do kill -KILL "$pid" 2>/dev/null || true; done
  [[ -n $ns ]] && ip netns del "$ns" 2>/dev/null
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- peers
# The tests' tools and peers (scripts/deps.sh), plus what only the bench
# uses: jq for hyperfine's JSON, a C compiler for bench/probe.c.
say "checking the peers and tools"
bash "$repo/scripts/deps.sh" jq:jq cc:gcc /usr/include/stdio.h:libc6-dev ps:procps

# The seed's Node package, beside the harness (not installed globally).
node_pkg=$work/npm/node_modules/@openinc/dhi-bootstrap
node_boot=""
if command -v node >/dev/null 2>&1; then
  if [[ ! -f $node_pkg/bootstrap.mjs ]] && command -v npm >/dev/null 2>&1; then
    say "installing @openinc/dhi-bootstrap@1.0.7 under $work/npm"
    npm install --no-save --no-audit --no-fund --prefix "$work/npm" @openinc/dhi-bootstrap@1.0.7 >>"$log" 2>&1 ||
      say "npm install failed; the Node package rows are left out"
  fi
  [[ -f $node_pkg/bootstrap.mjs ]] && node_boot=$node_pkg/bootstrap.mjs
fi

# ---------------------------------------------------------------- builds
say "building hardbox (release)"
hardbox=$(bash scripts/build-release.sh 2>>"$log") || {
  say "the release build failed: see $log"
  exit 1
}
bin=$run/bin
mkdir -p "$bin"
applets=$("$hardbox" --list)
for a in $applets; do ln -s "$hardbox" "$bin/$a"; done
has() { [[ " $(echo $applets) " == *" $1 "* ]]; }

# The same source unstripped, only to say where the bytes go (row 1).
unstripped=""
if [[ -z ${BENCH_QUICK:-} || -n ${BENCH_SIZES:-} ]]; then
  say "building hardbox unstripped, for the size breakdown"
  if cargo build --release --locked --config profile.release.strip=false --target-dir "$work/unstripped" >>"$log" 2>&1; then
    unstripped=$work/unstripped/x86_64-unknown-linux-musl/release/hardbox
  else
    say "the unstripped build failed: no size breakdown"
  fi
fi

probe=$run/probe
"${CC:-cc}" -O2 -static -o "$probe" bench/probe.c

# ---------------------------------------------------------------- recording
# rows.tsv: row, tool, kind (hardbox|peer|ref), unit, median, p25, p75, min, max, n, note
record() { # ROW TOOL KIND UNIT STATS NOTE
  local m p25 p75 lo hi n
  read -r m p25 p75 lo hi n <<<"$5"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$m" "$p25" "$p75" "$lo" "$hi" "$n" "$6" >>"$rows"
}
failed() { # ROW TOOL KIND UNIT NOTE
  say "row $1: $2: $5"
  printf '%s\t%s\t%s\t%s\t-\t-\t-\t-\t-\t-\t%s\n' "$1" "$2" "$3" "$4" "$5" >>"$rows"
}
# A command as the report shows it: without this run's directories.
shown() { local c=${1//$node_pkg/@openinc/dhi-bootstrap}; c=${c//$bin\//}; echo "${c//$run\//}"; }
scale() { awk -v f="$1" '{ print $1 * f }'; }
last_line() { tail -n 1 "$1" | tr -d '\n' | cut -c1-160; }

# Whole-process timing with hyperfine, in milliseconds. The command runs once
# first and must succeed, so a broken command is reported, not timed.
# Globals: wrap (a prefix that runs hyperfine and the check, e.g. in a netns),
# prep (a command run before each timing run), hf_warmup, hf_runs.
wrap=() prep=""
timed() { # ROW TOOL KIND COMMAND
  local row=$1 tool=$2 kind=$3 cmd=$4 json=$run/hf-$RANDOM$RANDOM.json
  say "row $row: $tool"
  [[ -n $prep ]] && "${wrap[@]}" $prep >>"$log" 2>&1
  if ! "${wrap[@]}" $cmd >>"$log" 2>"$run/err"; then
    failed "$row" "$tool" "$kind" ms "fails: $(last_line "$run/err")"
    return 0
  fi
  local opts=(-N --style none --warmup "${hf_warmup:-$warmup}" --runs "${hf_runs:-$runs}" --export-json "$json")
  [[ -n $prep ]] && opts+=(--prepare "$prep")
  if ! "${wrap[@]}" hyperfine "${opts[@]}" "$cmd" >>"$log" 2>"$run/err"; then
    failed "$row" "$tool" "$kind" ms "hyperfine: $(last_line "$run/err")"
    return 0
  fi
  record "$row" "$tool" "$kind" ms "$(jq -r '.results[0].times[]' "$json" | scale 1000 | "$probe" stats)" \
    "\`$(shown "$cmd")\`; CPU $(jq -r '.results[0] | "user \(.user * 1000 | . * 100 | round / 100), system \(.system * 1000 | . * 100 | round / 100)"' "$json") ms (means)"
}

# Ends a background job of ours, without bash's "Killed" notice.
stop() { { kill -KILL "$1" && wait "$1"; } 2>/dev/null || true; }

# The pid of the first child of PID, once it has one (waits up to 10 s, and
# not at all once PID has exited).
child_of() {
  local i kids state
  for ((i = 0; i < 200; i++)); do
    kids=$(cat "/proc/$1/task/$1/children" 2>/dev/null || true)
    [[ -n $kids ]] && { echo "${kids%% *}"; return 0; }
    state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null || echo gone)
    [[ $state == Z || $state == gone ]] && return 1
    sleep 0.05
  done
  return 1
}

# Resident memory of an init as PID 1 of a fresh PID namespace, in kB, while
# its child sleeps.
memory() { # ROW TOOL KIND INIT...
  local row=$1 tool=$2 kind=$3 i j up init kid comm samples=() detail=""
  shift 3
  say "row $row: $tool"
  for ((i = 0; i < mem_reps; i++)); do
    unshare --pid --kill-child --mount-proc "$@" /bin/sleep 600 >>"$log" 2>&1 &
    up=$!
    init=$(child_of "$up") && kid=$(child_of "$init") || {
      failed "$row" "$tool" "$kind" kB "never started its child"
      stop "$up"
      return 0
    }
    for ((j = 0; j < 100; j++)); do
      comm=$(cat "/proc/$kid/comm" 2>/dev/null || true)
      [[ $comm == sleep ]] && break
      sleep 0.05
    done
    sleep 0.5 # let the init settle into its wait
    samples+=("$(awk '/^VmRSS/ { print $2 }' "/proc/$init/status")")
    detail=$(awk '/^Rss(Anon|File)/ { printf "%s%s %s kB", sep, $1, $2; sep = ", " }' "/proc/$init/status")
    stop "$up"
  done
  record "$row" "$tool" "$kind" kB "$(printf '%s\n' "${samples[@]}" | "$probe" stats)" "last run: $detail"
}

# Signal forwarding latency in microseconds: kill -TERM to the child's handler.
latency() { # ROW TOOL KIND INIT...
  local row=$1 tool=$2 kind=$3 fifo=$run/fifo
  shift 3
  say "row $row: $tool"
  rm -f "$fifo"
  # Driver, init and child share CPU 0: otherwise the row mostly measures
  # how long an idle CPU takes to wake (36-45 us here, whoever forwards).
  if ! taskset -c 0 "$probe" sigdrive 20 "$signals" "$fifo" -- "$@" "$probe" sigchild "$fifo" >"$run/lat" 2>"$run/err"; then
    failed "$row" "$tool" "$kind" µs "$(last_line "$run/err")"
    return 0
  fi
  record "$row" "$tool" "$kind" µs "$(scale 0.001 <"$run/lat" | "$probe" stats)" "$signals signals after 20 unmeasured, all on CPU 0"
}

# Time for an init, PID 1 of a fresh PID namespace, to reap $orphans orphaned
# zombies, in milliseconds.
reaping() { # ROW TOOL KIND INIT...
  local row=$1 tool=$2 kind=$3 i samples=() result
  shift 3
  say "row $row: $tool"
  for ((i = 0; i < reap_reps; i++)); do
    timeout -s KILL 60 unshare --pid --kill-child --mount-proc "$@" "$probe" orphans "$orphans" "$reap_timeout_ms" >"$run/reap" 2>>"$log" || true
    result=$(tail -n 1 "$run/reap")
    if [[ $result == timeout* ]]; then
      failed "$row" "$tool" "$kind" ms "${result#timeout } of $orphans zombies still there after $((reap_timeout_ms / 1000)) s"
      return 0
    elif [[ ! $result =~ ^[0-9]+$ ]]; then
      failed "$row" "$tool" "$kind" ms "no result: $(last_line "$run/reap")"
      return 0
    fi
    samples+=("$result")
  done
  record "$row" "$tool" "$kind" ms "$(printf '%s\n' "${samples[@]}" | scale 0.001 | "$probe" stats)" "$orphans orphans"
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
started_at=$(date -u '+%Y-%m-%d %H:%M UTC')
t0=$SECONDS

# ---------------------------------------------------------------- 1. size
say "row 1: sizes"
sizes=$run/sizes.tsv
: >"$sizes"
# Bytes of the file and of the file plus every shared library it loads: what
# an image must carry to run it.
size_row() { # TOOL PATH...
  local tool=$1 own=0 libs=0 f link="static"
  shift
  for f in "$@"; do
    [[ -d $f ]] && own=$((own + $(find "$f" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'))) && continue
    own=$((own + $(stat -L -c %s "$f")))
    if ldd "$f" >/dev/null 2>&1; then
      link="dynamic"
      libs=$((libs + $(ldd "$f" | awk '/\// { print ($3 ~ /^\//) ? $3 : $1 }' | sort -u | xargs -r stat -L -c %s | awk '{ s += $1 } END { print s + 0 }')))
    fi
  done
  printf '%s\t%s\t%s\t%s\n' "$tool" "$own" "$((own + libs))" "$link" >>"$sizes"
}
size_row "hardbox ($(echo $applets | wc -w) applets)" "$hardbox"
size_row tini-static "$(command -v tini-static)"
size_row catatonit "$(command -v catatonit)"
size_row dumb-init "$(command -v dumb-init)"
size_row gosu "$(command -v gosu)"
size_row busybox-static /bin/busybox
size_row "iproute2 ip" "$(readlink -f "$(command -v ip)")"
size_row "util-linux nsenter" "$(command -v nsenter)"
[[ -n $node_boot ]] && size_row "Node package + node + /sbin/ip" "$node_pkg" "$(readlink -f "$(command -v node)")" "$(readlink -f /sbin/ip)"

# Where hardbox's bytes go: its sections, and its code by crate (hardbox by
# module), from the unstripped build's symbols.
breakdown=$run/breakdown.md
: >"$breakdown"
if [[ -n $unstripped ]]; then
  {
    echo "Where hardbox's $(stat -c %s "$hardbox") bytes go. Sections of the shipped binary (those over 1,000 bytes):"
    echo
    echo "| section | bytes |"
    echo "|---|---:|"
    size -A "$hardbox" | awk '$1 ~ /^\./ && $2 > 1000 { printf "| %s | %d |\n", $1, $2 }'
    echo
    echo "Machine code by origin, from the symbols of the same source built unstripped (the 25 largest):"
    echo
    echo "| origin | bytes of code |"
    echo "|---|---:|"
    nm -C -S --size-sort -t d "$unstripped" | awk '
      $3 ~ /^[TtWw]$/ {
        size = $2 + 0; $1 = $2 = $3 = ""; name = substr($0, 4)
        if (!match(name, /[A-Za-z_][A-Za-z0-9_]*::/)) key = "musl libc (C)"
        else {
          key = substr(name, RSTART, RLENGTH - 2)
          # Generic code instantiated for the backtrace printer counts as its own.
          if (name ~ /gimli|addr2line|rustc_demangle|miniz_oxide|backtrace/) key = "std: backtrace printing (gimli, addr2line, rustc_demangle, miniz_oxide)"
          else if (key == "libunwind") key = "libunwind (C++)"
          else if (key == "hardbox") {
            rest = substr(name, RSTART + RLENGTH); split(rest, part, "::")
            key = "hardbox::" part[1]; if (part[1] == "applets") key = key "::" part[2]
            sub(/[^A-Za-z0-9_:].*/, "", key)
          }
        }
        bytes[key] += size; total += size
      }
      END { for (k in bytes) printf "%d\t%s\n", bytes[k], k; printf "%d\t(all code symbols)\n", total }' |
      sort -rn | head -26 | awk -F'\t' '{ printf "| %s | %d |\n", $2, $1 }'
    echo
  } >"$breakdown"
fi

# ---------------------------------------------------------------- 2. start
true_bin=/bin/true
timed 2 "/bin/true alone" ref "$true_bin"
has dhi-bootstrap && timed 2 "hardbox dhi-bootstrap --init" hardbox "$bin/dhi-bootstrap --init --no-drop -- $true_bin"
timed 2 "tini-static -s" peer "tini-static -s -- $true_bin"
timed 2 dumb-init peer "dumb-init $true_bin"
timed 2 catatonit peer "catatonit -- $true_bin"
# The seed drops to DROP_TO_USER (default node) and runs on as root when that
# fails; root as the target makes its drop a no-op, as --no-drop is for hardbox.
if [[ -n $node_boot ]]; then
  export DROP_TO_USER=root
  timed 2 "Node package" peer "node $node_boot $true_bin"
  unset DROP_TO_USER
fi

# ---------------------------------------------------------------- 3. memory
has dhi-bootstrap && memory 3 "hardbox dhi-bootstrap" hardbox "$bin/dhi-bootstrap" --init --no-drop --
memory 3 tini-static peer tini-static --
memory 3 dumb-init peer dumb-init
memory 3 catatonit peer catatonit --
[[ -n $node_boot ]] && DROP_TO_USER=root memory 3 "Node package" peer node "$node_boot"

# ---------------------------------------------------------------- 4. signals
latency 4 "no init (signal sent to the child itself)" ref
has dhi-bootstrap && latency 4 "hardbox dhi-bootstrap" hardbox "$bin/dhi-bootstrap" --init --no-drop --
latency 4 tini-static peer tini-static -s --
latency 4 dumb-init peer dumb-init
latency 4 catatonit peer catatonit --
[[ -n $node_boot ]] && DROP_TO_USER=root latency 4 "Node package" peer node "$node_boot"

# ---------------------------------------------------------------- 5. reaping
has dhi-bootstrap && reaping 5 "hardbox dhi-bootstrap" hardbox "$bin/dhi-bootstrap" --init --no-drop --
reaping 5 tini-static peer tini-static --
reaping 5 dumb-init peer dumb-init
reaping 5 catatonit peer catatonit --
if [[ -n $node_boot ]]; then
  reap_reps=1 DROP_TO_USER=root reaping 5 "Node package" peer node "$node_boot"
fi

# ---------------------------------------------------------------- 6. drop
# Each must really run /bin/true as nobody:nogroup with no other group.
for spec in "dropuser:$bin/dropuser nobody" "gosu:gosu nobody" \
  "setpriv:setpriv --reuid=nobody --regid=nogroup --clear-groups"; do
  tool=${spec%%:*} cmd=${spec#*:}
  [[ $tool == dropuser ]] && ! has dropuser && continue
  ids=$($cmd /usr/bin/id 2>>"$log" || true)
  kind=peer
  [[ $tool == dropuser ]] && kind=hardbox && tool="hardbox dropuser"
  if [[ $ids != "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)" ]]; then
    failed 6 "$tool" "$kind" ms "does not run as nobody:nogroup: ${ids:-nothing}"
    continue
  fi
  timed 6 "$tool" "$kind" "$cmd $true_bin"
done

# ---------------------------------------------------------------- 7. nsenter
# The target: a sleep in its own pid, mount, uts, ipc, net and cgroup namespaces.
unshare --pid --kill-child --mount-proc --uts --ipc --net --cgroup /bin/sleep 3600 >>"$log" 2>&1 &
target_up=$!
if target_pid=$(child_of "$target_up"); then
  want=$(readlink "/proc/$target_pid/ns/net")
  for spec in "hardbox nsenter-lite:$bin/nsenter-lite" "util-linux nsenter:nsenter"; do
    tool=${spec%%:*} cmd=${spec#*:}
    kind=peer
    [[ $tool == hardbox* ]] && { has nsenter-lite || continue; kind=hardbox; }
    got=$($cmd -t "$target_pid" -a -- /bin/readlink /proc/self/ns/net 2>>"$log" || true)
    if [[ $got != "$want" ]]; then
      failed 7 "$tool" "$kind" ms "did not enter the target's net namespace: ${got:-nothing}"
      continue
    fi
    timed 7 "$tool" "$kind" "$cmd -t $target_pid -a -- $true_bin"
  done
else
  failed 7 "target" ref ms "the target namespace never started"
fi
stop "$target_up"

# ---------------------------------------------------------------- 8. routes
ns=hbbench-$$
ip netns add "$ns"
ip -n "$ns" link add v0 type veth peer name v1
ip -n "$ns" addr add 198.51.100.2/24 dev v0
ip -n "$ns" link set v0 up
ip -n "$ns" link set v1 up
gw=198.51.100.1
wrap=(ip netns exec "$ns")
# Each timing run starts from a table without the routes: a container's start.
prep="ip route flush via $gw"
route_count() { ip -n "$ns" -4 route show via "$gw" | wc -l; }

dest=203.0.113.0/24
for spec in "hardbox route-add:$bin/route-add $dest via $gw" "iproute2 ip:ip route replace $dest via $gw" \
  "busybox ip:busybox ip route replace $dest via $gw"; do
  tool=${spec%%:*} cmd=${spec#*:}
  kind=peer
  [[ $tool == hardbox* ]] && { has route-add || continue; kind=hardbox; }
  ip -n "$ns" route flush via "$gw"
  "${wrap[@]}" $cmd >>"$log" 2>&1 || true
  if [[ $(ip -n "$ns" route show "$dest") != "$dest via $gw dev v0"* ]]; then
    failed 8a "$tool" "$kind" ms "did not set the route: $(ip -n "$ns" route show "$dest")"
    continue
  fi
  timed 8a "$tool" "$kind" "$cmd"
done

# 1,000 routes: every /25 to /32 inside 203.0.113.0/24 (510), then inside
# 192.0.2.0/24 until there are 1,000.
routes=()
for base in 203.0.113 192.0.2; do
  for ((len = 25; len <= 32; len++)); do
    step=$((1 << (32 - len)))
    for ((o = 0; o < 256 && ${#routes[@]} < 1000; o += step)); do routes+=("$base.$o/$len"); done
  done
done
printf 'route replace %s via '"$gw"'\n' "${routes[@]}" >"$run/routes.batch"
printf 'ip route replace %s via '"$gw"'\n' "${routes[@]}" >"$run/routes.ip"
printf 'busybox ip route replace %s via '"$gw"'\n' "${routes[@]}" >"$run/routes.busybox"
printf "$bin/route-add %s via $gw\n" "${routes[@]}" >"$run/routes.route-add"
specs=$(printf '%s via '"$gw"'\n' "${routes[@]}")

hf_warmup=$loop_warmup hf_runs=$loop_runs
routes_row() { # TOOL KIND COMMAND [ENV=VALUE]
  local tool=$1 kind=$2 cmd=$3
  ip -n "$ns" route flush via "$gw"
  env ${4:+"$4"} "${wrap[@]}" $cmd >>"$log" 2>&1 || true
  local n
  n=$(route_count)
  if [[ $n -ne 1000 ]]; then
    failed 8b "$tool" "$kind" ms "set $n routes, not 1000"
    return 0
  fi
  local saved=("${wrap[@]}")
  [[ -n ${4:-} ]] && wrap=(env "$4" "${wrap[@]}")
  timed 8b "$tool" "$kind" "$cmd"
  wrap=("${saved[@]}")
}
if has dhi-bootstrap; then
  hf_warmup=$warmup hf_runs=$runs routes_row "hardbox dhi-bootstrap, ROUTES of 1,000" hardbox \
    "$bin/dhi-bootstrap --no-drop --exec -- $true_bin" "ROUTES=$specs"
fi
hf_warmup=$warmup hf_runs=$runs routes_row "ip -batch (1,000 lines)" peer "ip -batch $run/routes.batch"
routes_row "1,000 × ip route replace" peer "$probe runlines $run/routes.ip"
routes_row "1,000 × busybox ip route replace" peer "$probe runlines $run/routes.busybox"
has route-add && routes_row "1,000 × hardbox route-add" ref "$probe runlines $run/routes.route-add"
wrap=() prep=""
ip netns del "$ns"
ns=""

# ---------------------------------------------------------------- 9. probe
# One health check of a loopback HTTP server (busybox httpd serving a file),
# written the way HEALTHCHECKs are today; each must see the file.
if has probe; then
  web=$run/web port=$((20000 + $$ % 20000))
  url=http://127.0.0.1:$port/healthz
  mkdir -p "$web" && echo ok >"$web/healthz"
  busybox httpd -f -p "127.0.0.1:$port" -h "$web" >>"$log" 2>&1 &
  web_up=$!
  "$bin/probe" --wait 5s --every 50ms "$url" >>"$log" 2>&1 || say "row 9: the server never came up"
  timed 9 "hardbox probe" hardbox "$bin/probe $url"
  timed 9 "curl -fsS" peer "curl -fsS -o /dev/null $url"
  timed 9 "busybox wget" peer "busybox wget -q -O /dev/null $url"
  stop "$web_up"
fi
# ---------------------------------------------------------------- 11. --own
# The second start of a container whose volume is already the app's: 10,000
# files under 100 directories, all owned by nobody:nogroup. hardbox leaves
# them alone; the entrypoint scripts' two ways are chown -R (every file,
# every time) and the find that postgres' script uses (only the others).
own=$run/own
for d in $(seq 1 100); do mkdir -p "$own/d$d" && (cd "$own/d$d" && touch $(seq -f 'f%g' 1 100)); done
chown -R 65534:65534 "$own"
timed 11 "hardbox dhi-bootstrap --own" hardbox "$bin/dhi-bootstrap --user 65534:65534 --own $own -- /bin/true"
timed 11 "chown -R" peer "chown -R 65534:65534 $own"
timed 11 "find ! -user -exec chown" peer "find $own ! -user 65534 -exec chown 65534:65534 {} +"
rm -rf "$own"
# ---------------------------------------------------------------- 10. inspect
# The target: a sleep in its own pid, mount and net namespaces, as a
# container's PID 1 is. The reference answers what inspect answers with the
# five tools people use, each started without a shell (probe runlines).
unshare --pid --fork --kill-child --mount-proc --net /bin/sleep 3600 >>"$log" 2>&1 &
target_up=$!
if has inspect && target_pid=$(child_of "$target_up"); then
  cap_eff=$(awk '/^CapEff:/ { print $2 }' "/proc/$target_pid/status")
  printf '%s\n' "ps -o pid,ppid,user,group,stat,args -p $target_pid" "nsenter -t $target_pid -n ss -ltnup" \
    "capsh --decode=$cap_eff" "prlimit --pid $target_pid" "findmnt -N $target_pid" >"$run/inspect.peers"
  if "$bin/inspect" "$target_pid" >>"$log" 2>&1; then
    timed 10 "hardbox inspect" hardbox "$bin/inspect $target_pid"
  else
    failed 10 "hardbox inspect" hardbox ms "fails: $(last_line "$log")"
  fi
  timed 10 "ps + ss + capsh + prlimit + findmnt" peer "$probe runlines $run/inspect.peers"
else
  failed 10 "target" ref ms "the target namespace never started"
fi
stop "$target_up"

elapsed=$((SECONDS - t0))
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- report
say "writing $out"
version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"; }
{
  echo "# hardbox beside the tools it replaces"
  echo
  echo "Written by \`bench/run.sh\` from one run; every ratio compares numbers from this same run."
  echo
  echo "| | |"
  echo "|---|---|"
  echo "| date | $started_at (took $((elapsed / 60)) min $((elapsed % 60)) s) |"
  echo "| kernel | $(uname -sr) ($(uname -m)) |"
  echo "| CPU | $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(nproc) CPUs |"
  echo "| load average (1, 5, 15 min) | at start $load_start, at end $load_end |"
  echo "| hardbox | $("$hardbox" --version) |"
  echo "| peers | tini $(version tini), dumb-init $(version dumb-init), catatonit $(version catatonit), gosu $(version gosu), util-linux $(version util-linux), iproute2 $(version iproute2), busybox-static $(version busybox-static), hyperfine $(version hyperfine)$([[ -n $node_boot ]] && echo ", node $(node --version), @openinc/dhi-bootstrap $(jq -r .version "$node_pkg/package.json")") |"
  if [[ -n ${BENCH_QUICK:-} ]]; then
    echo "| mode | **BENCH_QUICK: too few runs to trust; for checking the harness only** |"
  fi
  echo
  echo "Times are medians of \`hyperfine -N\` ($warmup warm-up runs, $runs timed runs, unless a row says otherwise);"
  echo "spread is the interquartile range (25th to 75th percentile) and the extremes."
  echo "\"hardbox ÷ this\" is hardbox's median divided by the row's: below 1 means hardbox is faster or smaller."
  echo
} >"$out"

# The targets come first in the file, the rows after them.
awk -F'\t' -v sizes="$sizes" -v breakdown="$breakdown" -v out="$run/body.md" -v targets="$run/targets.md" -v runs="$runs" -v loop_runs="$loop_runs" -v loop_warmup="$loop_warmup" \
  -v signals="$signals" -v orphans="$orphans" -v mem_reps="$mem_reps" -v reap_reps="$reap_reps" '
function fmt(x) { return x == "-" ? "-" : (x + 0 >= 100 ? sprintf("%.0f", x) : (x + 0 >= 10 ? sprintf("%.1f", x) : sprintf("%.3g", x))) }
function ratio(a, b) { return (a == "" || a == "-" || b == "" || b == "-" || b + 0 == 0) ? "-" : sprintf(a / b < 0.1 ? "%.2g" : "%.2f", a / b) }
BEGIN {
  title["2"] = "2. Supervised start: the init runs /bin/true and exits"
  title["3"] = "3. Resident memory (VmRSS) of the init as PID 1 of a fresh PID namespace, while its child sleeps"
  title["4"] = "4. Signal forwarding latency: kill -TERM to the init until the child'"'"'s handler runs"
  title["5"] = "5. Reaping: " orphans " orphaned zombies handed to the init (PID 1) at once, until none is left"
  title["6"] = "6. Privilege drop to nobody:nogroup, then /bin/true"
  title["7"] = "7. Namespace entry: -t TARGET -a -- /bin/true (target in its own pid, mnt, uts, ipc, net, cgroup namespaces)"
  title["8a"] = "8a. One route, 203.0.113.0/24 via 198.51.100.1, in a fresh table (network namespace made for the run)"
  title["9"] = "9. Health check: one HTTP GET of a loopback server (busybox httpd), exit status only"
  title["8b"] = "8b. 1,000 routes (/25 to /32 inside 203.0.113.0/24 and 192.0.2.0/24) via 198.51.100.1, in a fresh table"
  how["3"] = mem_reps " runs each, median. A static init'"'"'s VmRSS is mostly its own file pages (RssFile): on each page fault the kernel maps up to 64 kB of the binary around it when those pages are cached (fault-around). hardbox drops its start-up code'"'"'s pages once the command runs."
  how["4"] = "Median of " signals " signals per init, after 20 unmeasured; the probe child timestamps (CLOCK_MONOTONIC) in its TERM handler."
  how["5"] = reap_reps " runs each. All " orphans " are zombies before their parent exits, so the init is handed them in one go; the clock stops when the last is gone."
  how["8b"] = "The rows that start 1,000 processes: " loop_warmup " warm-up and " loop_runs " timed runs (each run is 1,000 process starts). `probe runlines` starts each line without a shell. dhi-bootstrap then execs /bin/true, which the others do not."
  title["10"] = "10. inspect PID: one look at a process in its own pid, mount and net namespaces, against the five tools that answer the same"
  title["11"] = "11. --own on a second start: 10,000 files in 100 directories, already owned by nobody:nogroup"
  order = "2 3 4 5 6 7 8a 8b 9 10 11"
  # Targets: "PEER:FACTOR (issue N)" separated by ";", PEER "fastest" for the fastest peer of the row.
  want["2"] = "fastest:1 (issue 8);tini-static -s:1 (issue 4)"
  want["3"] = "tini-static:0.6 (issues 4, 8)"
  want["4"] = "tini-static:1 (issue 8)"
  want["5"] = "tini-static:1 (issue 8)"
  want["6"] = "fastest:1 (issue 8);gosu:0.8 (issue 3)"
  want["7"] = "fastest:1 (issues 5, 8)"
  want["8a"] = "fastest:1 (issue 8);busybox ip:1 (issue 2);iproute2 ip:0.7 (issue 2)"
  want["8b"] = "fastest:1 (issue 8)"
  want["9"] = "curl -fsS:0.5 (issue 14);busybox wget:1 (issue 14)"
  want["10"] = "fastest:1 (issue 17)"
}
{
  r = $1; k = ++count[r]
  tool[r, k] = $2; kind[r, k] = $3; unit[r] = $4; med[r, k] = $5; p25[r, k] = $6; p75[r, k] = $7
  lo[r, k] = $8; hi[r, k] = $9; n[r, k] = $10; note[r, k] = $11
  if ($3 == "hardbox") hb[r] = $5
}
END {
  # Row 1, from sizes.tsv
  print "## 1. Size of the binaries\n" >> out
  print "| binary | bytes | with its shared libraries | linking | hardbox ÷ this |" >> out
  print "|---|---:|---:|---|---:|" >> out
  while ((getline line < sizes) > 0) {
    split(line, f, "\t"); s++
    if (s == 1) hbsize = f[2]
    printf "| %s | %d | %d | %s | %s |\n", f[1], f[2], f[3], f[4], s == 1 ? "" : ratio(hbsize, f[3]) >> out
  }
  print "\nThe ratio uses the bytes an image must carry (file plus shared libraries). The Node package row adds node, its libraries and /sbin/ip with its libraries, which the package needs.\n" >> out
  while ((getline line < breakdown) > 0) print line >> out
  met = (hbsize <= 400000) ? "met" : "**missed**"
  target[++t] = sprintf("| 1 | at most 400,000 bytes, the shipped build (issues 2, 8, 13) | %d bytes | %s |", hbsize, met)

  split(order, rs, " ")
  for (i = 1; i in rs; i++) {
    r = rs[i]
    if (!(r in count)) continue
    print "## " title[r] "\n" >> out
    if (r in how) print how[r] "\n" >> out
    u = unit[r]
    printf "| tool | median (%s) | 25th to 75th | min to max | n | hardbox ÷ this | notes |\n", u >> out
    print "|---|---:|---:|---:|---:|---:|---|" >> out
    best = ""; bestname = ""
    delete peer
    for (k = 1; k <= count[r]; k++) {
      rat = (kind[r, k] == "hardbox") ? "" : ratio(hb[r], med[r, k])
      name = tool[r, k] (kind[r, k] == "ref" ? " *(reference)*" : "")
      if (kind[r, k] == "hardbox") name = "**" tool[r, k] "**"
      spread = (p25[r, k] == "-") ? "-" : fmt(p25[r, k]) " to " fmt(p75[r, k])
      range = (lo[r, k] == "-") ? "-" : fmt(lo[r, k]) " to " fmt(hi[r, k])
      printf "| %s | %s | %s | %s | %s | %s | %s |\n", name, fmt(med[r, k]), spread, range, n[r, k], rat, note[r, k] >> out
      if (kind[r, k] == "peer" && med[r, k] != "-" && (best == "" || med[r, k] + 0 < best + 0)) { best = med[r, k]; bestname = tool[r, k] }
      if (kind[r, k] == "peer") peer[tool[r, k]] = med[r, k]
    }
    print "" >> out
    h = (r in hb) ? hb[r] : "-"
    nw = split(want[r], ws, ";")
    for (j = 1; j <= nw; j++) {
      split(ws[j], w, ":"); against = w[1]; lim = w[2] + 0; src = w[2]; sub(/^[0-9.]+ /, "", src)
      if (against == "fastest") { against = bestname; refv = best; goal = "no slower than the fastest peer" }
      else { refv = (against in peer) ? peer[against] : ""; goal = (lim == 1) ? "no slower than " against : "at most " lim "x " against }
      if (h == "-" || refv == "" || refv == "-") verdict = "not measured"
      else verdict = (h + 0 <= lim * refv) ? "met" : "**missed**"
      target[++t] = sprintf("| %s | %s %s | %s %s vs %s %s %s (%s) | %s |", r, goal, src, fmt(h), u, against, fmt(refv), u, ratio(h, refv), verdict)
    }
  }
  print "## Targets\n" > targets
  print "| row | target | hardbox vs reference (ratio) | verdict |" >> targets
  print "|---|---|---|---|" >> targets
  for (i = 1; i <= t; i++) print target[i] >> targets
  print "" >> targets
}' "$rows"
cat "$run/targets.md" "$run/body.md" >>"$out"
say "done in $elapsed s: $out"
