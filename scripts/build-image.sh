#!/usr/bin/env bash
# Builds the whole Dockerfile.static, build stage included, in podman (with
# runc, as this machine needs), without pulling anything: the build stage's
# base image is the local stand-in scripts/builder-image.sh makes (made
# first when missing), and the stage fetches its crates over the host's
# network. arm64 is the same cross-build from this machine's platform; only
# the final image differs.
# Usage: build-image.sh [amd64|arm64] [TAG]; prints the tag (default hardbox:ARCH).
set -euo pipefail
cd "$(dirname "$0")/.."
arch=${1:-amd64}
tag=${2:-hardbox:$arch}
case $arch in
  amd64 | arm64) ;;
  *) echo "build-image: no image for $arch: amd64 or arm64" >&2; exit 125 ;;
esac
bash scripts/builder-image.sh >/dev/null
# podman cannot raise limits here: explicit ones, at most the hard limits.
at_most_4096() { if [[ $1 == unlimited ]] || (($1 > 4096)); then echo 4096; else echo "$1"; fi; }
nofile=$(at_most_4096 "$(ulimit -Hn)") nproc=$(at_most_4096 "$(ulimit -Hu)")
# podman 4.3 leaves BUILDPLATFORM unset, and FROM --platform=$BUILDPLATFORM
# would then ask for the target's platform: the build stage runs on this one.
start=$SECONDS
before=$(podman image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)
podman --runtime runc build --pull=never --network host --layers=false \
  --ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc" \
  --platform "linux/$arch" --build-arg "BUILDPLATFORM=linux/$(podman info --format '{{.Host.Arch}}')" \
  --build-arg "HARDBOX_COMMIT=$(git rev-parse --short=12 HEAD)" \
  --build-arg "SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)" \
  -f Dockerfile.static -t "$tag" . >&2
echo "build-image: $tag built in $((SECONDS - start)) s" >&2
# The image this tag named before, unless something still uses it.
if [[ -n $before && $before != "$(podman image inspect --format '{{.Id}}' "$tag")" ]]; then
  podman rmi "$before" >/dev/null 2>&1 || true
fi
echo "$tag"
