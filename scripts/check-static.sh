#!/usr/bin/env bash
# The release binary must be truly static (no interpreter, no shared
# libraries), run in a chroot that holds nothing but itself, stay within the
# size budget, name the commit it was built from in --version, and carry its
# dependency list for scanners (cargo auditable's .dep-v0 section).
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
commit=$(git -C "$(dirname "$0")/.." rev-parse --short=12 HEAD 2>/dev/null || true)
if [[ -n $commit && $out != *"commit $commit"* ]]; then
  echo "check-static: --version does not name commit $commit: $out" >&2; fail=1
fi
if objdump -h "$bin" | grep -q '\.dep-v0'; then
  echo "check-static: .dep-v0 (the dependency list) is there"
else
  echo "check-static: no .dep-v0 section: build with scripts/build-release.sh (cargo auditable)" >&2; fail=1
fi
exit $fail
