#!/usr/bin/env bash
# Two shipped builds of the committed HEAD, from clean clones in two
# different directories, must be byte-identical, for every target. The
# second also finds the toolchains and the cargo home at other paths, as the
# image's builder does (/usr/local/rustup, /usr/local/cargo): bind-mounted
# in a mount namespace of its own, so it needs root; under CI it must run.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/scripts/toolchain.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/hardbox-repro.XXXXXX")
trap 'rm -rf "$work"' EXIT
for dir in "$work/first" "$work/second-elsewhere"; do
  git clone -q --no-hardlinks "$repo" "$dir"
done
homes=$work/homes
mkdir -p "$homes/cargo" "$homes/rustup"
moved=yes
if ((EUID != 0)); then
  [[ -z ${CI:-} ]] || { echo "check-reproducible: must run as root under CI (bind mounts)" >&2; exit 1; }
  echo "check-reproducible: not root: the second build keeps this cargo home and toolchains" >&2
  moved=""
fi

# build DIR TARGET: the path of the binary DIR's build-release.sh makes.
build() {
  local dir=$1 target=$2
  if [[ $dir == "$work/first" || -z $moved ]]; then
    bash "$dir/scripts/build-release.sh" "$target"
    return
  fi
  unshare -m bash -euc '
    homes=$1 dir=$2 target=$3
    mount --bind "${CARGO_HOME:-$HOME/.cargo}" "$homes/cargo"
    mount --bind "${RUSTUP_HOME:-$HOME/.rustup}" "$homes/rustup"
    export CARGO_HOME=$homes/cargo RUSTUP_HOME=$homes/rustup PATH=$homes/cargo/bin:$PATH
    bash "$dir/scripts/build-release.sh" "$target"' _ "$homes" "$dir" "$target"
}

fail=0
for target in "${HARDBOX_TARGETS[@]}"; do
  sums=()
  for dir in "$work/first" "$work/second-elsewhere"; do
    bin=$(build "$dir" "$target")
    sums+=("$(sha256sum "$bin" | cut -d' ' -f1)")
  done
  echo "check-reproducible: $target: ${sums[0]} and ${sums[1]}${moved:+ (the second with the cargo home and toolchains moved)}"
  [[ ${sums[0]} == "${sums[1]}" ]] || { echo "check-reproducible: the two $target builds differ" >&2; fail=1; }
done
exit $fail
