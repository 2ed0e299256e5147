#!/usr/bin/env bash
# A release binary must be truly static (no interpreter, no shared
# libraries), run in a chroot that holds nothing but itself, stay within its
# size budget, name the commit it was built from in --version, and carry its
# dependency list for scanners (cargo auditable's .dep-v0 section).
# Usage: check-static.sh shipped|stable BINARY
#   shipped: scripts/build-release.sh's binary (the pinned nightly, std built
#            for hardbox): at most 400,000 bytes, 0.56x tini-static's 708,080.
#   stable:  `cargo build --release` on stable, what `cargo install` gives: at
#            most 825,000 bytes (the goal, 720,000, is missed: see below).
#            It has no .dep-v0 unless built with auditable.
set -euo pipefail
usage="usage: check-static.sh shipped|stable BINARY"
kind=${1:?$usage}
bin=${2:?$usage}
case $kind in
  shipped) budget=400000 ;;
  # 720,000 is issue 13's goal for stable; it measures 818,144, with std's
  # prebuilt panic and backtrace code that only the shipped build can leave
  # out (stable has no way to drop it, nor the unwind tables: the tests
  # share the target's rustflags and need panic=unwind). Held at the
  # measured size plus 0.7% so that growth still fails (README, Size).
  stable) budget=825000 ;;
  *) echo "check-static: unknown budget $kind: $usage" >&2; exit 125 ;;
esac
fail=0
if readelf -l "$bin" | grep -q INTERP; then echo "check-static: $bin has an INTERP header" >&2; fail=1; fi
if readelf -d "$bin" 2>/dev/null | grep -q NEEDED; then echo "check-static: $bin needs shared libraries" >&2; fail=1; fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
cp "$bin" "$root/hardbox"
# A cross-built binary runs under qemu-user, copied into the chroot too.
run=(/hardbox)
if readelf -h "$bin" | grep -q 'Machine:.*AArch64' && [[ $(uname -m) != aarch64 ]]; then
  qemu=$(command -v qemu-aarch64-static) || { echo "check-static: qemu-aarch64-static missing: bash scripts/deps.sh" >&2; exit 1; }
  cp "$qemu" "$root/qemu"
  run=(/qemu /hardbox)
fi
if ! out=$(chroot "$root" "${run[@]}" --version); then echo "check-static: does not run in an empty chroot" >&2; fail=1; fi
size=$(stat -c %s "$bin")
echo "check-static: $out; $size bytes ($kind budget $budget)"
if ((size > budget)); then
  echo "check-static: $bin is $size bytes, over the $kind budget of $budget bytes" >&2; fail=1
fi
commit=$(git -C "$(dirname "$0")/.." rev-parse --short=12 HEAD 2>/dev/null || true)
if [[ -n $commit && $out != *"commit $commit"* ]]; then
  echo "check-static: --version does not name commit $commit: $out" >&2; fail=1
fi
# The shipped build leaves std's panic printer out (-Cpanic=immediate-abort):
# its message template would be there otherwise.
if [[ $kind == shipped ]] && grep -q 'panicked at' "$bin"; then
  echo "check-static: $bin has std's panic printer: build with scripts/build-release.sh" >&2; fail=1
fi
if objdump -h "$bin" | grep -q '\.dep-v0'; then
  echo "check-static: .dep-v0 (the dependency list) is there"
elif [[ $kind == shipped ]]; then
  echo "check-static: no .dep-v0 section: build with scripts/build-release.sh (cargo auditable)" >&2; fail=1
fi
exit $fail
