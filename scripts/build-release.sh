#!/usr/bin/env bash
# Builds the binary hardbox ships: static musl, std built for hardbox with
# the nightly pinned in scripts/toolchain.sh (-Zbuild-std, immediate abort
# on panic: no panic message, no backtrace printer, half the size),
# reproducible (no path of the build machine, no timestamp: SOURCE_DATE_EPOCH),
# built from exactly the committed Cargo.lock (--locked), and carrying its
# dependency list for scanners (cargo auditable: Trivy, Grype and syft read
# the .dep-v0 section).
# Usage: build-release.sh [TARGET]; prints the path of the binary, which is
# the same on every run: target/shipped/TARGET/release/hardbox.
#
# Stable `cargo build --release` still builds hardbox (it is what
# `cargo install` gives), with std's panic machinery in it; scripts/test.sh
# tests that build too.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/toolchain.sh
hardbox_need_toolchains >&2
target=${1:-x86_64-unknown-linux-musl}
toolchain=$HARDBOX_NIGHTLY
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
config=$(hardbox_shipped_config "$target")
build=(cargo "+$toolchain" build)
if command -v cargo-auditable >/dev/null 2>&1; then
  # What `cargo auditable build` does, but with the wrapper named, not at
  # its absolute path: cargo mixes the wrapper into hardbox's -C metadata,
  # hence into the order of its functions, so another CARGO_HOME (the
  # image's builder has /usr/local/cargo) gave other bytes. The arguments
  # are the ones the pinned cargo-auditable's `cargo metadata` reads
  # (CargoArgs in its cargo_arguments.rs); rustflags do not change the
  # dependency list.
  export RUSTC_WORKSPACE_WRAPPER=cargo-auditable
  export CARGO_AUDITABLE_ORIG_ARGS='{"offline":false,"locked":true,"frozen":false,"config":[]}'
elif [[ -n ${CI:-} ]]; then
  echo "build-release: cargo-auditable is missing (scripts/deps.sh installs it)" >&2
  exit 1
else
  echo "build-release: cargo-auditable not installed; building without the embedded dependency list" >&2
fi
# A target directory of its own: the stable build's artifacts in target/
# are not rebuilt by, nor mistaken for, the shipped ones.
"${build[@]}" "${HARDBOX_BUILD_STD[@]}" --release --locked --target "$target" \
  --target-dir target/shipped --config "$config" >&2
echo "$PWD/target/shipped/$target/release/hardbox"
