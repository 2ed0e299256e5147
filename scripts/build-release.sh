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
cargo_home=${CARGO_HOME:-$HOME/.cargo}
sysroot=$(rustc "+$toolchain" --print sysroot)
commit=$(rustc "+$toolchain" -vV | sed -n 's/^commit-hash: //p')
# The musl C runtime the link needs: the nightly's own when it has the
# target's std, else the pinned stable's (see scripts/toolchain.sh).
crt=$sysroot/lib/rustlib/$target/lib/self-contained
if [[ ! -e $crt/crt1.o ]]; then
  crt=$(rustc "+$HARDBOX_CRT_TOOLCHAIN" --print sysroot)/lib/rustlib/$target/lib/self-contained
  [[ -e $crt/crt1.o ]] || {
    echo "build-release: no musl C runtime for $target (crt1.o in $crt): bash scripts/deps.sh" >&2
    exit 1
  }
fi
# Appended to .cargo/config.toml's rustflags for the target, not replacing
# them. std's sources are remapped to /rustc/COMMIT, where a rustup std
# names them too.
flags=(
  -Zunstable-options -Cpanic=immediate-abort
  "-Lnative=$crt"
  "--remap-path-prefix=$PWD=/hardbox"
  "--remap-path-prefix=$cargo_home=/cargo"
  "--remap-path-prefix=$sysroot/lib/rustlib/src/rust=/rustc/$commit"
)
config="target.$target.rustflags=[$(printf "'%s'," "${flags[@]}")]"
if cargo "+$toolchain" auditable --version >/dev/null 2>&1; then
  build=(cargo "+$toolchain" auditable build)
elif [[ -n ${CI:-} ]]; then
  echo "build-release: cargo-auditable is missing (scripts/deps.sh installs it)" >&2
  exit 1
else
  echo "build-release: cargo-auditable not installed; building without the embedded dependency list" >&2
  build=(cargo "+$toolchain" build)
fi
# A target directory of its own: the stable build's artifacts in target/
# are not rebuilt by, nor mistaken for, the shipped ones.
"${build[@]}" -Zbuild-std=std,panic_abort --release --locked --target "$target" \
  --target-dir target/shipped --config "$config" >&2
echo "$PWD/target/shipped/$target/release/hardbox"
