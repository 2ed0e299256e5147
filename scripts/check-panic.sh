#!/usr/bin/env bash
# The shipped build has no panic message to print: were a panic ever
# reached, the process must die at once, with a non-zero status, and what
# came after the panic (the command) must never start. No input reaches a
# panic in hardbox (the fuzz targets look for them), so this builds a probe
# with exactly the shipped toolchain, flags and profile, whose panic sits on
# the way to starting a command, and checks both sides: with an argument in
# range the command runs; one past the end panics and it does not.
# Usage: check-panic.sh [TARGET] (x86_64 runs natively; aarch64 under qemu).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/toolchain.sh
target=${1:-x86_64-unknown-linux-musl}
# Under target/, so that cargo reads this repository's .cargo/config.toml
# (rust-lld, static) as it does for hardbox.
probe=$PWD/target/panic-probe
mkdir -p "$probe/src"
cat >"$probe/Cargo.toml" <<TOML
[package]
name = "panic-probe"
version = "0.0.0"
edition = "2021"
publish = false

[workspace]

$(sed -n '/^\[profile.release\]/,/^$/p' Cargo.toml)
TOML
cat >"$probe/src/main.rs" <<'RUST'
//! Usage: panic-probe MARKER INDEX. Reads argument INDEX (a panic when it is
//! past the end, as a parser's bug would be), then creates MARKER: the
//! command that must never start after a panic.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let index: usize = args.get(2).and_then(|i| i.parse().ok()).unwrap_or(0);
    let picked = &args[index];
    let _ = std::process::Command::new("touch").arg(&args[1]).arg("--").status();
    println!("{picked}");
}
RUST
config=$(hardbox_shipped_config "$target")
(cd "$probe" && cargo "+$HARDBOX_NIGHTLY" build -q "${HARDBOX_BUILD_STD[@]}" --release \
  --target "$target" --config "$config") >&2
bin=$probe/target/$target/release/panic-probe
run=("$bin")
readelf -h "$bin" | grep -q 'Machine:.*AArch64' && [[ $(uname -m) != aarch64 ]] && run=(qemu-aarch64-static "$bin")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "check-panic: $target: FAIL: $*" >&2; exit 1; }

"${run[@]}" "$dir/ran" 1 >/dev/null 2>"$dir/err" || fail "the probe without a panic exits $?: $(cat "$dir/err")"
[[ -e $dir/ran ]] || fail "the probe without a panic did not run its command"
rm "$dir/ran"

# The braces take bash's own "Illegal instruction" report.
status=0
{ "${run[@]}" "$dir/ran" 3 >"$dir/out" 2>"$dir/err" || status=$?; } 2>/dev/null
((status > 128)) || fail "the panic exits $status, not by a signal"
[[ ! -e $dir/ran ]] || fail "the command ran after the panic"
# qemu-user reports the guest's fatal signal itself; that line is not the probe's.
sed -i '/^qemu: uncaught target signal /d' "$dir/err"
[[ ! -s $dir/err && ! -s $dir/out ]] || fail "the panic printed: $(cat "$dir/err" "$dir/out")"
echo "check-panic: $target: a panic kills the process at once (status $status, signal $((status - 128))), silent, the command never started"
