#!/usr/bin/env bash
# Installs the benchmark peers, then runs every scenario at full size and writes
# docs/BENCHMARKS.md. Takes about 30 minutes (B7 builds two Tauri apps, then starts them 15
# times, each idle 60 s); not part of the test command (which runs
# `sundial-bench --quick` through `cargo test`).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
missing=()
for tool in sqlite3 rg; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  as_root apt-get update -qq
  pkgs=()
  for tool in "${missing[@]}"; do
    case "$tool" in rg) pkgs+=(ripgrep) ;; *) pkgs+=("$tool") ;; esac
  done
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}"
fi
python3 -c 'import apscheduler' 2>/dev/null || python3 -m pip install --quiet 'apscheduler>=3,<4'

# B7, B8 and B9 run the desktop app (B7 and B8 also a Tauri hello-world,
# crates/bench/peers/tauri-hello), built here in release into the same target folder as
# sundial-bench, which finds them next to itself.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
want_b7=1
args=" $* "
if [[ "$args" == *" --only "* || "$args" == *" --only="* ]]; then
  shopt -s nocasematch
  [[ "$args" =~ [\ =,]b[789]([\ ,]|$) ]] || want_b7=0
  shopt -u nocasematch
fi
if ((want_b7)); then
  bash scripts/setup-system.sh
  lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
  if [ "$(cat node_modules/.sundial-lock 2>/dev/null)" != "$lock_hash" ]; then
    npm install --no-audit --no-fund --no-save
    echo "$lock_hash" >node_modules/.sundial-lock
  fi
  npm run --silent build
  cargo build --release --locked -p sundial-desktop
  cargo build --release --locked --manifest-path crates/bench/peers/tauri-hello/Cargo.toml
fi

cargo build --release -p sundial-bench --bins
cargo run --release -p sundial-bench --bin sundial-bench -- --out docs/BENCHMARKS.md "$@"
