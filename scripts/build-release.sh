#!/usr/bin/env bash
# Builds the release binary the way it ships: static musl, size-tuned,
# reproducible (no absolute build paths, no timestamps), and carrying its
# dependency list for scanners (cargo auditable: Trivy, Grype and syft read
# the .dep-v0 section). Usage: build-release.sh [TARGET]; prints the path.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-x86_64-unknown-linux-musl}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
cargo_home=${CARGO_HOME:-$HOME/.cargo}
# Appended to .cargo/config.toml's rustflags for the target, not replacing them.
remap="target.$target.rustflags=['--remap-path-prefix=$PWD=/hardbox','--remap-path-prefix=$cargo_home=/cargo']"
if cargo auditable --version >/dev/null 2>&1; then
  build=(cargo auditable build)
elif [[ -n ${CI:-} ]]; then
  echo "build-release: cargo-auditable is missing (scripts/deps.sh installs it)" >&2
  exit 1
else
  echo "build-release: cargo-auditable not installed; building without the embedded dependency list" >&2
  build=(cargo build)
fi
"${build[@]}" --release --locked --target "$target" --config "$remap" >&2
echo "$PWD/target/$target/release/hardbox"
