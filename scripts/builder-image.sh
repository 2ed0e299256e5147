#!/usr/bin/env bash
# Makes a local stand-in for Dockerfile.static's base image (its FROM of the
# build stage, rust:1.95-bookworm), for machines that cannot pull it, so
# that the whole Dockerfile.static builds with `podman build --pull=never`
# (scripts/build-image.sh). The stand-in is what the real image is, made from
# Debian's own packages and this machine's rustup:
#   - a Debian bookworm root from debootstrap, with the compiler and C
#     library headers build scripts link with, git and ca-certificates;
#   - rustup, and the toolchains of scripts/toolchain.sh copied from this
#     machine's rustup at the very same versions (the stable the base image
#     is named for, with both musl targets, and the pinned nightly with
#     rust-src), under /usr/local/rustup and /usr/local/cargo as in the
#     rust image; the stable is the default toolchain;
#   - this machine's cargo-auditable, so the build stage's `cargo install`
#     finds it installed instead of compiling it again;
#   - this machine's CA certificates (for crates.io through a proxy).
# It is tagged with the exact name the FROM line uses, and labelled with the
# pins of scripts/toolchain.sh, and kept: it is made again only when missing,
# when the pins changed, or with --force.
#
# Usage: builder-image.sh [--force]; prints the image name.
# HARDBOX_DEBIAN_MIRROR overrides the mirror (default http://deb.debian.org/debian).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/toolchain.sh
from=$(sed -n 's/^FROM --platform=\$BUILDPLATFORM \([^ @]*\).* AS build$/\1/p' Dockerfile.static)
[[ -n $from ]] || { echo "builder-image: no build stage FROM in Dockerfile.static" >&2; exit 1; }
# An unqualified name is Docker Hub's library, which is what podman resolves it to.
case $from in
  */*/*) image=$from ;;
  */*) image=docker.io/$from ;;
  *) image=docker.io/library/$from ;;
esac
pins="$HARDBOX_NIGHTLY $HARDBOX_CRT_TOOLCHAIN cargo-auditable@$HARDBOX_CARGO_AUDITABLE"
before=$(podman image inspect --format '{{.Id}} {{index .Labels "hardbox.toolchains"}}' "$image" 2>/dev/null || true)
if [[ ${1:-} != --force && $before == *" $pins" ]]; then
  echo "$image"
  exit 0
fi
for tool in debootstrap podman rustup; do
  command -v "$tool" >/dev/null || { echo "builder-image: $tool missing: bash scripts/deps.sh" >&2; exit 1; }
done
hardbox_need_toolchains

root=$(mktemp -d "${TMPDIR:-/var/tmp}/hardbox-builder.XXXXXX")
trap 'rm -rf "$root"' EXIT
step() { echo "builder-image: $(date -u +%T) $*" >&2; }

step "debootstrap bookworm into $root"
start=$SECONDS
debootstrap --variant=minbase --include=ca-certificates,gcc,libc6-dev,git \
  bookworm "$root" "${HARDBOX_DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$root.log" 2>&1 ||
  { tail -20 "$root.log" >&2; echo "builder-image: debootstrap failed (log above)" >&2; exit 1; }
rm -f "$root.log"
step "debootstrap took $((SECONDS - start)) s"

host=$(rustc -vV | sed -n 's/^host: //p')
rustup_home=$root/usr/local/rustup
cargo_home=$root/usr/local/cargo
mkdir -p "$rustup_home/toolchains" "$cargo_home/bin"
for toolchain in "$HARDBOX_CRT_TOOLCHAIN" "$HARDBOX_NIGHTLY"; do
  sysroot=$(readlink -f "$(rustc "+$toolchain" --print sysroot)")
  step "copy $toolchain ($(rustc "+$toolchain" -V)) from $sysroot"
  mkdir "$rustup_home/toolchains/$toolchain-$host"
  # The HTML docs are half of a default-profile toolchain and no build reads them.
  tar -C "$sysroot" --exclude=./share/doc -cf - . | tar -C "$rustup_home/toolchains/$toolchain-$host" -xf -
done
cat >"$rustup_home/settings.toml" <<SETTINGS
version = "12"
default_toolchain = "$HARDBOX_CRT_TOOLCHAIN-$host"
profile = "minimal"
auto_self_update = "disable"

[overrides]
SETTINGS
install -m 0755 "$(command -v rustup)" "$cargo_home/bin/rustup"
for proxy in cargo rustc rustdoc cargo-clippy clippy-driver rustfmt cargo-fmt; do
  ln -s rustup "$cargo_home/bin/$proxy"
done
grep -qs "^\"cargo-auditable $HARDBOX_CARGO_AUDITABLE " "${CARGO_HOME:-$HOME/.cargo}/.crates.toml" ||
  { echo "builder-image: this machine has no cargo-auditable $HARDBOX_CARGO_AUDITABLE: bash scripts/deps.sh" >&2; exit 1; }
install -m 0755 "$(command -v cargo-auditable)" "$cargo_home/bin/cargo-auditable"
# cargo install's own record, so that installing this version again is a no-op.
cat >"$cargo_home/.crates.toml" <<CRATES
[v1]
"cargo-auditable $HARDBOX_CARGO_AUDITABLE (registry+https://github.com/rust-lang/crates.io-index)" = ["cargo-auditable"]
CRATES
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*

step "import as $image"
path=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# One variable per --change: podman import reads an ENV line as one pair.
tar -C "$root" -cf - . | podman import \
  --change ENV=RUSTUP_HOME=/usr/local/rustup --change ENV=CARGO_HOME=/usr/local/cargo \
  --change "ENV=PATH=$path" --change "ENV=RUST_VERSION=$HARDBOX_CRT_TOOLCHAIN" \
  --change "LABEL hardbox.toolchains=\"$pins\"" --change 'CMD ["bash"]' - "$image" >/dev/null
# The stand-in this one replaced, unless something still uses it.
[[ -z $before ]] || podman rmi "${before%% *}" >/dev/null 2>&1 || true
step "done"
echo "$image"
