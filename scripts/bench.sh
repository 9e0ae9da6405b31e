#!/usr/bin/env bash
# Installs the benchmark peers, then runs every scenario at full size and writes
# docs/BENCHMARKS.md. Takes about 10 minutes; not part of the test command (which runs
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

cargo build --release -p sundial-bench --bins
cargo run --release -p sundial-bench --bin sundial-bench -- --out docs/BENCHMARKS.md "$@"
