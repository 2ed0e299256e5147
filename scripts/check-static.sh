#!/usr/bin/env bash
# The release binary must be truly static (no interpreter, no shared
# libraries), run in a chroot that holds nothing but itself, and stay within
# the size budget.
set -euo pipefail
bin=${1:?usage: check-static.sh BINARY}
budget=600000
fail=0
if readelf -l "$bin" | grep -q INTERP; then echo "check-static: $bin has an INTERP header" >&2; fail=1; fi
if readelf -d "$bin" 2>/dev/null | grep -q NEEDED; then echo "check-static: $bin needs shared libraries" >&2; fail=1; fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
cp "$bin" "$root/hardbox"
if ! out=$(chroot "$root" /hardbox --version); then echo "check-static: does not run in an empty chroot" >&2; fail=1; fi
size=$(stat -c %s "$bin")
echo "check-static: $out; $size bytes (budget $budget)"
if ((size > budget)); then echo "check-static: $size bytes is over the budget of $budget" >&2; fail=1; fi
exit $fail
