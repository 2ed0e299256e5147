#!/usr/bin/env bash
# Installs what hardbox's build, tests and demo need, when it is missing:
# the pinned toolchains and musl targets, cargo tools (cargo-auditable for
# the release build, cargo-fuzz, cargo-deny), and the Debian packages
# the tests use as oracles and probes. Safe to run again; does nothing when
# all is there.
set -euo pipefail

# The toolchains of scripts/toolchain.sh: the pinned nightly the shipped
# binary is built with (rust-src for -Zbuild-std; cargo fuzz's sanitizers
# need a nightly too) and the stable with both musl targets.
. "$(dirname "$0")/toolchain.sh"
hardbox_need_toolchains
need_rust_target() {
  rustup target list --installed 2>/dev/null | grep -qx "$1" || rustup target add "$1"
}
for target in "${HARDBOX_TARGETS[@]}"; do need_rust_target "$target"; done

need_cargo_tool() { # SUBCOMMAND CRATE
  cargo "$1" --version >/dev/null 2>&1 || cargo install --locked "$2"
}
# cargo-auditable at the pinned version (a plain `cargo auditable --version`
# would answer cargo's own version).
grep -qs "^\"cargo-auditable $HARDBOX_CARGO_AUDITABLE " "${CARGO_HOME:-$HOME/.cargo}/.crates.toml" ||
  cargo install --locked "cargo-auditable@$HARDBOX_CARGO_AUDITABLE"
need_cargo_tool fuzz cargo-fuzz
need_cargo_tool deny cargo-deny

# command-or-file : Debian package
wanted=(
  ip:iproute2 unshare:util-linux nsenter:util-linux setpriv:util-linux
  /bin/busybox:busybox-static podman:podman runc:runc
  qemu-aarch64-static:qemu-user-static
  tini-static:tini dumb-init:dumb-init catatonit:catatonit gosu:gosu
  hyperfine:hyperfine /usr/bin/time:time newuidmap:uidmap
  /usr/lib/cni/bridge:containernetworking-plugins iptables:iptables
  debootstrap:debootstrap
  keyctl:keyutils
  setcap:libcap2-bin strace:strace
  curl:curl python3:python3-minimal # probe's tests: the oracle and a real HTTP server
  capsh:libcap2-bin findmnt:util-linux prlimit:util-linux ss:iproute2 # tests/inspect.rs oracles
  "$@" # a caller's own, in the same form (bench/run.sh)
)
missing=()
for pair in "${wanted[@]}"; do
  what=${pair%%:*} pkg=${pair#*:}
  if [[ $what == /* ]]; then [[ -e $what ]] && continue
  else command -v "$what" >/dev/null 2>&1 && continue
  fi
  missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "deps: missing ${missing[*]}; run as root or install them" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $(printf '%s\n' "${missing[@]}" | sort -u) >/dev/null
fi
