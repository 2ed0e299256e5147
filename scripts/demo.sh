#!/usr/bin/env bash
# The quick-start demo: builds the hardbox image, builds a small app image
# FROM it with dhi-bootstrap as the entrypoint, and shows what happens when
# it runs: a route is set, root is left for good, SIGTERM reaches the app and
# the app's own exit status comes out. Removes everything it made.
# Run as root (podman) or as a docker user. Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
id=hardbox-demo-$$

if [[ -t 1 ]]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
say() { printf '\n%s==> %s%s\n' "$bold" "$*" "$plain"; }
indent() { sed 's/^/    /'; }

# docker when its daemon answers, else podman (installed by deps.sh).
if docker info >/dev/null 2>&1; then
  engine=(docker) run_extra=() build_extra=()
else
  [[ $(id -u) -eq 0 ]] || { echo "demo: no working docker; podman needs root here: sudo bash $0" >&2; exit 1; }
  [[ $(uname -m) == x86_64 ]] && command -v cargo >/dev/null ||
    { echo "demo: needs an x86_64 machine with Rust (https://rustup.rs), or a working docker" >&2; exit 1; }
  bash scripts/deps.sh
  # crun fails on some cgroup layouts; podman may not raise limits itself.
  engine=(podman --runtime runc)
  nofile=$(ulimit -Hn) nproc=$(ulimit -Hu)
  [[ $nofile == unlimited ]] && nofile=4096
  [[ $nproc == unlimited ]] && nproc=4096
  run_extra=(--ulimit "nofile=$((nofile < 4096 ? nofile : 4096)):$((nofile < 4096 ? nofile : 4096))"
    --ulimit "nproc=$((nproc < 4096 ? nproc : 4096)):$((nproc < 4096 ? nproc : 4096))" --read-only-tmpfs=false)
  build_extra=(--layers=false)
fi
if [[ ! -x /bin/busybox ]]; then
  [[ $(id -u) -eq 0 ]] || { echo "demo: needs /bin/busybox: apt-get install busybox-static" >&2; exit 1; }
  apt-get install -y -qq --no-install-recommends busybox-static >/dev/null
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/$id.XXXXXX")
cleanup() {
  for name in "$id-app" "$id-nocap"; do "${engine[@]}" rm -f "$name" >/dev/null 2>&1 || true; done
  "${engine[@]}" network rm "$id" >/dev/null 2>&1 || true
  "${engine[@]}" rmi -f "$id-app" "$id" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

say "Building the hardbox image ($id) with ${engine[0]}"
if command -v cargo >/dev/null && [[ $(uname -m) == x86_64 ]]; then
  # The shipped binary, built here, stands in for Dockerfile.static's build
  # stage (scripts/build-image.sh builds the whole file, from a stand-in
  # base image of 2.4 GB: too much for a demo).
  bin=$(bash scripts/build-release.sh 2>"$work/build.log") || { cat "$work/build.log" >&2; exit 1; }
  bash scripts/image-root.sh "$bin" "$work/out" 2>/dev/null
  "${engine[@]}" build -q "${build_extra[@]}" --build-arg TARGETARCH=amd64 -t "$id" -f Dockerfile.static \
    --build-context "build=$work" "$work" >/dev/null
else
  "${engine[@]}" build -q -t "$id" -f Dockerfile.static \
    --build-arg HARDBOX_COMMIT="$(git rev-parse --short=12 HEAD 2>/dev/null || true)" . >/dev/null
fi
"${engine[@]}" run --rm "${run_extra[@]}" --read-only --network none "$id" --version | indent

say "Building an app image FROM it: busybox and a script, ENTRYPOINT [\"/bin/dhi-bootstrap\"]"
mkdir -p "$work/app/root/bin"
cp /bin/busybox "$work/app/root/bin/busybox"
cp tests/container/app.sh "$work/app/root/app.sh"
"${engine[@]}" build -q "${build_extra[@]}" -t "$id-app" --build-arg "HARDBOX_IMAGE=$id" \
  -f tests/container/app.Containerfile "$work/app" >/dev/null
sed -n '/^ARG/,$p' "$repo/tests/container/app.Containerfile" | indent

say "An internal network, so nothing leaves this machine"
"${engine[@]}" network create --internal "$id" >/dev/null
if [[ ${engine[0]} == docker ]]; then
  format='{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{"\n"}}{{end}}'
else
  format='{{range .Subnets}}{{.Subnet}} {{.Gateway}}{{"\n"}}{{end}}'
fi
read -r subnet gateway < <("${engine[@]}" network inspect "$id" --format "$format" | grep -E '^[0-9.]+/' | head -1) ||
  { echo "demo: network $id has no IPv4 subnet" >&2; exit 1; }
if [[ ! $gateway =~ ^[0-9.]+$ ]]; then
  # No gateway on an internal network (podman with CNI): the subnet's first address.
  IFS=. read -r a b c d <<<"${subnet%/*}"
  gateway=$a.$b.$c.$((d + 1))
fi
echo "    subnet $subnet, gateway $gateway"

run_app=("${engine[@]}" run "${run_extra[@]}" --read-only --network "$id" --cap-drop ALL
  --cap-add SETUID --cap-add SETGID --cap-add SETPCAP
  -e ROUTE_DESTINATION=203.0.113.0/24 -e "ROUTE_GATEWAY=$gateway" -e DROP_TO_USER=nonroot)

say "Run: --cap-add NET_ADMIN -e ROUTE_DESTINATION=203.0.113.0/24 -e ROUTE_GATEWAY=$gateway -e DROP_TO_USER=nonroot"
"${run_app[@]}" -d --name "$id-app" --cap-add NET_ADMIN "$id-app" >/dev/null
for _ in $(seq 100); do
  "${engine[@]}" logs "$id-app" 2>/dev/null | grep -q 'app: ready' && break
  [[ $("${engine[@]}" inspect --format '{{.State.Running}}' "$id-app") == true ]] || break
  sleep 0.1
done
echo "    hardbox said (stderr):"
"${engine[@]}" logs "$id-app" 2>&1 >/dev/null | indent
echo "    the app, in its own words (uid, capabilities, routes):"
"${engine[@]}" logs "$id-app" 2>/dev/null | indent
if [[ $("${engine[@]}" inspect --format '{{.State.Running}}' "$id-app") != true ]]; then
  echo "demo: the app container has stopped (exit status $("${engine[@]}" wait "$id-app")); see above" >&2
  exit 1
fi

say "exec into the running container: /bin/route-add --list"
"${engine[@]}" exec "$id-app" /bin/route-add --list | indent

say "stop -t 10: SIGTERM goes to PID 1 (hardbox), which forwards it to the app"
start=$(date +%s%N)
"${engine[@]}" stop -t 10 "$id-app" >/dev/null
took=$((($(date +%s%N) - start) / 1000000))
status=$("${engine[@]}" wait "$id-app")
"${engine[@]}" logs "$id-app" 2>/dev/null | tail -1 | indent
echo "    stopped in ${took} ms (not 10 s: nothing had to be killed); exit status $status, the app's own"

say "Fail closed: the same without NET_ADMIN"
set +e
"${run_app[@]}" --name "$id-nocap" "$id-app" 2>&1 | indent
status=${PIPESTATUS[0]}
set -e
echo "    exit status $status; the app never started (no 'app:' line above)"

say "Done; removing the images, containers and network"
