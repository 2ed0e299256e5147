#!/usr/bin/env bash
# Runs every fuzz target (fuzz/fuzz_targets/) for FUZZ_SECONDS each (default
# 25, so that with the nightly build the CI step stays under 5 minutes), from
# seeds written by scripts/fuzz-seeds.sh plus what earlier runs found. A
# crash stops the script with the target's name and the input that crashed
# it (fuzz/artifacts/TARGET/), to become a unit test in the module that owns
# the parser.
#
# Longer, e.g. an hour per target on 2 cores:
#   FUZZ_SECONDS=3600 FUZZ_JOBS=2 bash scripts/fuzz.sh
# One target: bash scripts/fuzz.sh route_spec
set -euo pipefail
cd "$(dirname "$0")/.."
# The nightly the shipped binary is built with: one pinned toolchain.
. scripts/toolchain.sh
seconds=${FUZZ_SECONDS:-25}
jobs=${FUZZ_JOBS:-1}
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: cargo-fuzz is missing (scripts/deps.sh installs it)" >&2
  exit 1
fi
bash scripts/fuzz-seeds.sh >/dev/null
targets=("$@")
if ((${#targets[@]} == 0)); then
  mapfile -t targets < <(cd fuzz && cargo "+$HARDBOX_NIGHTLY" fuzz list)
fi
cd fuzz
cargo "+$HARDBOX_NIGHTLY" fuzz build >&2
# One process per target by default; FUZZ_JOBS=N forks N (libFuzzer -fork),
# which still stops at the first crash.
parallel=()
((jobs > 1)) && parallel=(-fork="$jobs")
for target in "${targets[@]}"; do
  log=$(mktemp)
  if ! cargo "+$HARDBOX_NIGHTLY" fuzz run "$target" -- -max_total_time="$seconds" "${parallel[@]}" \
    -max_len=4096 -timeout=10 >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "fuzz: $target FAILED; the input is in fuzz/artifacts/$target/" >&2
    rm -f "$log"
    exit 1
  fi
  # libFuzzer's status lines start with #EXECUTIONS; the last is the total.
  runs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
  echo "fuzz: $target: ${runs:-0} executions in ${seconds}s x $jobs, no failure; corpus $(ls "corpus/$target" | wc -l)"
  rm -f "$log"
done
