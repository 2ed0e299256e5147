#!/usr/bin/env bash
# Two release builds of the committed HEAD, from clean clones in two
# different directories, must be byte-identical.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/hardbox-repro.XXXXXX")
trap 'rm -rf "$work"' EXIT
sums=()
for dir in "$work/first" "$work/second-elsewhere"; do
  git clone -q --no-hardlinks "$repo" "$dir"
  bin=$(bash "$dir/scripts/build-release.sh")
  sums+=("$(sha256sum "$bin" | cut -d' ' -f1)")
done
echo "check-reproducible: ${sums[0]} and ${sums[1]}"
[[ ${sums[0]} == "${sums[1]}" ]] || { echo "check-reproducible: the two builds differ" >&2; exit 1; }
