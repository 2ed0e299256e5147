#!/usr/bin/env bash
# Runs every test of hardbox: unit and integration tests (real network, PID,
# mount and user namespaces; run as root), the container suite, the aarch64
# smoke set under qemu, the release binary's static-ness, size, commit and
# embedded dependency list, the dependency policy (cargo deny), two release
# builds compared byte for byte, and every fuzz target for FUZZ_SECONDS.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh

# The release binary exactly as it ships (cargo auditable, remapped paths).
HARDBOX_RELEASE_BIN=$(bash scripts/build-release.sh)
export HARDBOX_RELEASE_BIN
bash scripts/check-static.sh "$HARDBOX_RELEASE_BIN"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --locked -- --test-threads="${HARDBOX_TEST_THREADS:-4}" 2>&1 | tee "$log"
bash scripts/smoke-aarch64.sh

# Licenses, bans and sources by deny.toml. cargo deny reads `cargo metadata`,
# which needs every locked crate on disk (the other platforms' too): fetch
# once, then check offline (advisories need the network: not here).
cargo fetch --locked
cargo deny --offline check licenses bans sources

bash scripts/check-reproducible.sh
bash scripts/fuzz.sh

# One closing line for the whole run, summed over every test binary.
awk '/^test result:/ { passed += $4; failed += $6 } END { printf "tests: %d passed, %d failed\n", passed, failed }' "$log"
