#!/usr/bin/env bash
# The shipped aarch64 binary, smoke-tested without an aarch64 machine:
# cross-compiled with rust-lld (scripts/build-release.sh), then run under
# qemu-user. Checks that the binary starts, dispatches, parses and runs a
# command; the applets' behaviour is tested in depth on the native build.
# Usage: smoke-aarch64.sh [BINARY] (default: build it; the arm64 image's
# binary, say).
set -euo pipefail
cd "$(dirname "$0")/.."
target=aarch64-unknown-linux-musl
bin=${1:-$(bash scripts/build-release.sh "$target")}
qemu=$(command -v qemu-aarch64-static) || { echo "smoke-aarch64: qemu-aarch64-static missing: bash scripts/deps.sh" >&2; exit 1; }

fail() { echo "smoke-aarch64: FAIL: $*" >&2; exit 1; }
readelf -h "$bin" | grep -q 'Machine:.*AArch64' || fail "$bin is not an aarch64 binary"

dir=$(mktemp -d "${TMPDIR:-/tmp}/hardbox-smoke.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cp "$bin" "$dir/hardbox"
"$qemu" "$dir/hardbox" --install "$dir" 2>/dev/null || fail "hardbox --install"

version=$("$qemu" "$dir/hardbox" --version) || fail "--version"
[[ $version == *"($target,"* ]] || fail "--version does not name $target: $version"
applets=$("$qemu" "$dir/hardbox" --list) || fail "--list"
[[ -n $applets ]] || fail "--list is empty"
for applet in $applets; do
  [[ -L $dir/$applet ]] || fail "--install made no link for $applet"
  # By link name, as in an image: argv[0] picks the applet.
  help=$("$qemu" "$dir/$applet" --help) || fail "$applet --help exits $?"
  [[ -n $help ]] || fail "$applet --help printed nothing"
done

# A parse error: exit 125 and one line. In a network namespace of its own,
# so that even a wrong parse could not touch the host's routes.
set +e
err=$(unshare -n "$qemu" "$dir/route-add" 203.0.113.0/33 via 192.0.2.1 2>&1 >/dev/null)
status=$?
set -e
((status == 125)) || fail "route-add with a bad prefix exits $status, want 125 ($err)"
[[ $err == "route-add: "* && $(wc -l <<<"$err") -eq 1 ]] || fail "route-add's message is not one line: $err"

# checkpoint resolves its path with openat2 (no symlink in any component),
# which qemu-user does not implement: under qemu it must fail closed, in one
# line that names openat2, without running the command. Its runs are tested
# natively (tests/checkpoint.rs).
set +e
err=$("$qemu" "$dir/checkpoint" --path "$dir/done" -- /bin/sh -c "echo ran >>'$dir/ran'" 2>&1 >/dev/null)
status=$?
set -e
((status == 125)) || fail "checkpoint under qemu exits $status, want 125 (no openat2): $err"
[[ $err == "checkpoint: "*openat2* && $(wc -l <<<"$err") -eq 1 ]] || fail "checkpoint's refusal is not one line naming openat2: $err"
[[ ! -e $dir/ran && ! -e $dir/done ]] || fail "checkpoint ran the command or wrote a record without openat2"

echo "smoke-aarch64: ok: $version; $(wc -w <<<"$applets") applets; $(stat -c %s "$bin") bytes"
