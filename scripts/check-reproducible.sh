#!/usr/bin/env bash
# Two shipped builds of the committed HEAD, from clean clones in two
# different directories, must be byte-identical, for every target.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/scripts/toolchain.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/hardbox-repro.XXXXXX")
trap 'rm -rf "$work"' EXIT
for dir in "$work/first" "$work/second-elsewhere"; do
  git clone -q --no-hardlinks "$repo" "$dir"
done
fail=0
for target in "${HARDBOX_TARGETS[@]}"; do
  sums=()
  for dir in "$work/first" "$work/second-elsewhere"; do
    bin=$(bash "$dir/scripts/build-release.sh" "$target")
    sums+=("$(sha256sum "$bin" | cut -d' ' -f1)")
  done
  echo "check-reproducible: $target: ${sums[0]} and ${sums[1]}"
  [[ ${sums[0]} == "${sums[1]}" ]] || { echo "check-reproducible: the two $target builds differ" >&2; fail=1; }
done
exit $fail
