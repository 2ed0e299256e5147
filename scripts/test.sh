#!/usr/bin/env bash
# Runs every test of hardbox: unit and integration tests (real network, PID,
# mount and user namespaces; run as root), the container suite, the aarch64
# smoke set under qemu, and the release binary's static-ness and size.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh

cargo build --release --locked
export HARDBOX_RELEASE_BIN=$PWD/target/x86_64-unknown-linux-musl/release/hardbox
bash scripts/check-static.sh "$HARDBOX_RELEASE_BIN"

cargo test --locked -- --test-threads="${HARDBOX_TEST_THREADS:-4}"
bash scripts/smoke-aarch64.sh
