#!/usr/bin/env bash
# Lays out the root of the hardbox image under OUT: /bin/hardbox, one relative
# link per applet beside it, and an /etc/passwd and /etc/group that know root,
# nonroot (65532) and nobody (65534). Dockerfile.static's build stage and the
# container tests both call it, so both paths give the very same image.
# No home directories: the image is meant to run read-only; mount a volume at
# /home/nonroot if an app writes there.
set -euo pipefail
usage="usage: image-root.sh HARDBOX_BINARY OUT"
bin=${1:?$usage}
out=${2:?$usage}

# A cross-built binary cannot run here to make its own links, so the names
# are read from the applet table itself (applets/mod.rs, the one place that
# lists applets). Where the binary runs, its --list must agree with it.
table=$(dirname "$0")/../applets/mod.rs
mapfile -t applets < <(grep -o 'name: "[^"]*"' "$table" | cut -d'"' -f2)
((${#applets[@]})) || { echo "image-root: no applets found in $table" >&2; exit 1; }

mkdir -p "$out/bin" "$out/etc"
install -m 0755 "$bin" "$out/bin/hardbox"
if listed=$("$out/bin/hardbox" --list 2>/dev/null); then
  if [[ $(sort <<<"$listed") != "$(printf '%s\n' "${applets[@]}" | sort)" ]]; then
    echo "image-root: hardbox --list says: $(echo $listed); $table says: ${applets[*]}" >&2
    exit 1
  fi
  "$out/bin/hardbox" --install "$out/bin"
else
  for name in "${applets[@]}"; do ln -sfn hardbox "$out/bin/$name"; done
fi

cat >"$out/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
PASSWD
cat >"$out/etc/group" <<'GROUP'
root:x:0:
nonroot:x:65532:
nobody:x:65534:
GROUP
chmod 0644 "$out/etc/passwd" "$out/etc/group"

# Same bytes, same times: an image digest that depends only on the source.
if [[ -n ${SOURCE_DATE_EPOCH:-} ]]; then
  find "$out" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
fi
