#!/usr/bin/env bash
# Runs every test of hardbox: unit and integration tests (real network, PID,
# mount and user namespaces; run as root), the container suite, the aarch64
# smoke set under qemu, the shipped and the stable binary's static-ness,
# size, commit and embedded dependency list, the image built whole, the
# dependency policy (cargo deny), two shipped builds of each target compared
# byte for byte, and every fuzz target for FUZZ_SECONDS.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
scratch=$(mktemp -d)
images=hardbox-test-$$
trap 'rm -rf "$scratch"; podman rmi -f "$images:amd64" "$images:arm64" >/dev/null 2>&1 || true' EXIT

# The binaries exactly as they ship (scripts/build-release.sh: the pinned
# nightly, cargo auditable, remapped paths), for both targets.
HARDBOX_RELEASE_BIN=$(bash scripts/build-release.sh x86_64-unknown-linux-musl)
export HARDBOX_RELEASE_BIN
bash scripts/check-static.sh shipped "$HARDBOX_RELEASE_BIN"
aarch64=$(bash scripts/build-release.sh aarch64-unknown-linux-musl)
bash scripts/check-static.sh shipped "$aarch64"
# A panic, were one reached, kills the process at once: for both targets.
bash scripts/check-panic.sh x86_64-unknown-linux-musl
bash scripts/check-panic.sh aarch64-unknown-linux-musl

# Stable `cargo build --release`, what `cargo install` gives: its budget, and
# the multicall tests against it, so that the stable build never rots.
cargo build --release --locked
stable=$PWD/target/x86_64-unknown-linux-musl/release/hardbox
bash scripts/check-static.sh stable "$stable"
HARDBOX_RELEASE_BIN=$stable cargo test --locked --test multicall

# The image, Dockerfile.static built whole (its build stage too), for both
# platforms. The container suite runs against the amd64 one; the arm64 one's
# binary gets the aarch64 smoke set under qemu.
# The stand-in for its base image (scripts/builder-image.sh) is kept between
# runs; the images are this run's.
HARDBOX_IMAGE=$(bash scripts/build-image.sh amd64 "$images:amd64")
export HARDBOX_IMAGE
arm64_image=$(bash scripts/build-image.sh arm64 "$images:arm64")
container=$(podman create --arch arm64 "$arm64_image")
podman cp "$container:/bin/hardbox" "$scratch/hardbox-arm64"
podman rm "$container" >/dev/null

log=$scratch/log
cargo test --locked -- --test-threads="${HARDBOX_TEST_THREADS:-4}" 2>&1 | tee "$log"
bash scripts/smoke-aarch64.sh "$aarch64"
bash scripts/smoke-aarch64.sh "$scratch/hardbox-arm64"

# Licenses, bans and sources by deny.toml. cargo deny reads `cargo metadata`,
# which needs every locked crate on disk (the other platforms' too): fetch
# once, then check offline (advisories need the network: not here).
cargo fetch --locked
cargo deny --offline check licenses bans sources

bash scripts/check-reproducible.sh
bash scripts/fuzz.sh

# One closing line for the whole run, summed over every test binary.
awk '/^test result:/ { passed += $4; failed += $6 } END { printf "tests: %d passed, %d failed\n", passed, failed }' "$log"
