#!/usr/bin/env bash
# Writes the fuzz targets' seed corpora (fuzz/corpus/TARGET/) from the
# tests' own tables: the route specs, ROUTES lists, user specs, expansions
# and nsenter-lite argument lists that the tests already try, good and bad,
# and checkpoint records made the way hardbox makes them. Nothing binary is
# committed; this script is the corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
out=fuzz/corpus
tests=(tests/*.rs src/*.rs applets/*.rs)

seed() { # TARGET, then the seed's bytes on stdin
  local dir=$out/$1 tmp
  mkdir -p "$dir"
  tmp=$(mktemp "$dir/.new.XXXXXX")
  cat >"$tmp"
  mv "$tmp" "$dir/seed-$(md5sum <"$tmp" | cut -c1-16)"
}

# The string literals of a table row, e.g. row(ra, &["a", "b"] -> a b,
# with Rust's escapes (\n, \t, \") read back.
literals() { { grep -oE '"([^"\\]|\\.)*"' || true; } | sed -E 's/^"//; s/"$//'; }

# route_spec: every literal that reads as a route, and route-add's rows.
grep -ohE '"[^"]*\b(via|dev|default|metric|table|mtu|src|onlink)\b[^"]*"' "${tests[@]}" | literals |
  while IFS= read -r line; do printf '%b' "$line" | seed route_spec; done
grep -ohE 'row\(ra, &\[[^]]*\]' tests/bad_input.rs | while IFS= read -r row; do
  printf '%b' "$(literals <<<"$row" | paste -sd' ')" | seed route_spec
done

# routes_list: every ROUTES value the tests set.
grep -ohE '"ROUTES", "([^"\\]|\\.)*"' "${tests[@]}" | sed -E 's/^"ROUTES", //' | literals |
  while IFS= read -r list; do printf '%b' "$list" | seed routes_list; done

# user_spec: USER[:GROUP] on line 1, --groups on line 2, --keep-caps on line 3.
{
  grep -ohE '"DROP_TO_USER", "([^"\\]|\\.)*"' "${tests[@]}" | sed -E 's/^"DROP_TO_USER", //' | literals
  grep -ohE 'row\(du, &\["(--[a-z-]+", "[^"]*", )?"([^"\\]|\\.)*"' tests/bad_input.rs | sed -E 's/.*, //' | literals
  grep -ohE '"[a-z0-9_+-]*:[a-z0-9_+-]*"' tests/dropuser.rs | literals
} | while IFS= read -r spec; do printf '%b' "$spec" | seed user_spec; done
grep -ohE '"--groups", "[^"]*"' "${tests[@]}" | sed -E 's/^"--groups", //' | literals |
  while IFS= read -r groups; do printf 'nobody\n%s' "$groups" | seed user_spec; done
grep -ohE '"--keep-caps", "[^"]*"' "${tests[@]}" | sed -E 's/^"--keep-caps", //' | literals |
  while IFS= read -r caps; do printf 'nobody\n\n%s' "$caps" | seed user_spec; done

# expand_env: every literal holding a $.
grep -ohE '"([^"\\]|\\.)*\$([^"\\]|\\.)*"' tests/bad_input.rs tests/dhi_bootstrap.rs src/expand.rs applets/dhi_bootstrap.rs |
  literals | while IFS= read -r text; do printf '%s' "$text" | seed expand_env; done

# namespace_flags: nsenter-lite's argument lists, NUL between arguments.
{
  grep -ohE 'row\(ns, &\[[^]]*\]' tests/bad_input.rs
  grep -ohE '(norm|refused)\(&\[[^]]*\]' applets/nsenter_lite.rs tests/nsenter_lite.rs
} | while IFS= read -r row; do
  literals <<<"$row" | sed 's/{cmd}/id/' | tr '\n' '\0' | head -c -1 | seed namespace_flags
done

# checkpoint_record: records as record.rs writes them, then torn and altered.
record() { # KEY TIME COMMAND
  local body
  body=$(printf 'hardbox-checkpoint 1\nkey %s\ntime %s\nversion 0.1.0\ncommand %s\n' \
    "$(printf '%s' "$1" | md5sum | cut -c1-32)" "$2" "$3")
  printf '%s\ncheck %s\n' "$body" "$(printf '%s\n' "$body" | md5sum | cut -c1-32)"
}
for args in "k 0 true" "touch 1764061326 touch /tmp/x" "x 18446744073709551615 sh -c \"echo hi\""; do
  read -r key time command <<<"$args"
  record "$key" "$time" "$command" | seed checkpoint_record
  record "$key" "$time" "$command" | head -c -1 | seed checkpoint_record
  record "$key" "$time" "$command" | sed 's/^time /time 0/' | seed checkpoint_record
done
# probe_target: every target the probe tests and rows try.
grep -ohE '"(http|https|tcp|unix|file)://([^"\\]|\\.)*"' tests/probe.rs tests/bad_input.rs | literals |
  while IFS= read -r target; do printf '%b' "$target" | seed probe_target; done

# probe_response: the canned responses of the probe tests, after the first
# byte, which picks the read size and the HEAD flag.
grep -ohE '"HTTP/1([^"\\]|\\.)*"' tests/probe.rs src/probe/http.rs | literals |
  while IFS= read -r response; do printf '\x05%b' "$response" | seed probe_response; done

# inspect's /proc parsers: this machine's own files, and each cut short.
for pair in status:status mountinfo:mountinfo limits:limits net/tcp:net_tcp net/tcp6:net_tcp \
  net/udp:net_tcp net/route:net_tcp net/ipv6_route:net_tcp net/if_inet6:net_tcp net/fib_trie:net_tcp; do
  file=/proc/self/${pair%%:*} target=procfs_${pair#*:}
  [[ -r $file ]] || continue
  seed "$target" <"$file"
  head -c 300 "$file" | seed "$target"
done
for target in "$out"/*; do echo "fuzz-seeds: $(ls "$target" | wc -l) seeds for ${target##*/}"; done
