# The toolchain the shipped binary is built with, pinned in this one place.
# Sourced (not run) by scripts/build-release.sh, scripts/check-panic.sh,
# scripts/deps.sh, scripts/fuzz.sh, scripts/builder-image.sh and
# Dockerfile.static.
#
# The shipped build needs a nightly: -Zbuild-std builds std together with
# hardbox, and -Cpanic=immediate-abort leaves out std's panic-message and
# backtrace code (about 210 kB hardbox never uses; it aborts on panic).
# nightly-2026-05-19 has no x86_64 musl std; 2026-05-20 has, with rust-src.
# This nightly spells immediate abort `-Zunstable-options
# -Cpanic=immediate-abort`; older ones used
# `-Zbuild-std-features=panic_immediate_abort`, which this one refuses.
HARDBOX_NIGHTLY=nightly-2026-05-20
# No nightly offers the aarch64 musl std, and -Zbuild-std does not need it,
# but the link does need musl's C runtime (crt1.o, crti.o, crtn.o, libc.a,
# libunwind.a), which only a target's std component carries. This stable's
# aarch64 musl target supplies them (its self-contained directory, given to
# the link with -L). It is also the toolchain of Dockerfile.static's base
# image (rust:1.95-bookworm).
HARDBOX_CRT_TOOLCHAIN=1.95.0
# cargo auditable embeds the dependency list that Trivy, Grype and syft read.
HARDBOX_CARGO_AUDITABLE=0.7.7
HARDBOX_TARGETS=(x86_64-unknown-linux-musl aarch64-unknown-linux-musl)

# Installs the pinned toolchains and targets when missing; offline when all
# is there (rustup's own install would ask the network even then).
hardbox_need_toolchains() {
  local t
  rustup run "$HARDBOX_NIGHTLY" rustc -V >/dev/null 2>&1 ||
    rustup toolchain install "$HARDBOX_NIGHTLY" --profile minimal
  rustup component list --installed --toolchain "$HARDBOX_NIGHTLY" 2>/dev/null | grep -q '^rust-src' ||
    rustup component add --toolchain "$HARDBOX_NIGHTLY" rust-src
  # -Zbuild-std needs no prebuilt std, but the x86_64 link takes musl's C
  # runtime from the nightly's own x86_64 musl target (aarch64's, below,
  # from the stable).
  rustup target list --installed --toolchain "$HARDBOX_NIGHTLY" 2>/dev/null | grep -qx x86_64-unknown-linux-musl ||
    rustup target add --toolchain "$HARDBOX_NIGHTLY" x86_64-unknown-linux-musl
  rustup run "$HARDBOX_CRT_TOOLCHAIN" rustc -V >/dev/null 2>&1 ||
    rustup toolchain install "$HARDBOX_CRT_TOOLCHAIN" --profile minimal
  for t in "${HARDBOX_TARGETS[@]}"; do
    rustup target list --installed --toolchain "$HARDBOX_CRT_TOOLCHAIN" 2>/dev/null | grep -qx "$t" ||
      rustup target add --toolchain "$HARDBOX_CRT_TOOLCHAIN" "$t"
  done
}

# The cargo --config that makes a release build the shipped kind, for TARGET,
# built from the current directory. Appended to .cargo/config.toml's
# rustflags for the target, not replacing them.
hardbox_shipped_config() {
  local target=$1 sysroot commit crt
  sysroot=$(rustc "+$HARDBOX_NIGHTLY" --print sysroot)
  commit=$(rustc "+$HARDBOX_NIGHTLY" -vV | sed -n 's/^commit-hash: //p')
  # The musl C runtime the link needs: the nightly's own when it has the
  # target's std, else the pinned stable's.
  crt=$sysroot/lib/rustlib/$target/lib/self-contained
  if [[ ! -e $crt/crt1.o ]]; then
    crt=$(rustc "+$HARDBOX_CRT_TOOLCHAIN" --print sysroot)/lib/rustlib/$target/lib/self-contained
    [[ -e $crt/crt1.o ]] || {
      echo "toolchain: no musl C runtime for $target (crt1.o in $crt): bash scripts/deps.sh" >&2
      return 1
    }
  fi
  # Nothing unwinds under immediate abort, so no unwind tables (68 kB of
  # .eh_frame). LLVM's machine outliner folds repeated instruction runs
  # into shared calls (4.5 kB). (-Zlocation-detail=none saves nothing more:
  # immediate abort already drops the locations.)
  # No path of the build machine stays in the binary: the checkout, the cargo
  # home, and std's sources, which go to /rustc/COMMIT where a rustup std
  # names them too.
  local flags=(
    -Zunstable-options -Cpanic=immediate-abort -Cforce-unwind-tables=no
    -Cllvm-args=-enable-machine-outliner
    "-Lnative=$crt"
    "--remap-path-prefix=$PWD=/hardbox"
    "--remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo"
    "--remap-path-prefix=$sysroot/lib/rustlib/src/rust=/rustc/$commit"
  )
  echo "target.$target.rustflags=[$(printf "'%s'," "${flags[@]}")]"
}
# What cargo needs besides that config: std built with the crate, in the
# variants std keeps for small binaries (optimize_for_size: 3.9 kB).
HARDBOX_BUILD_STD=(-Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size)
