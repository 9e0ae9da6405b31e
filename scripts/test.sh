#!/usr/bin/env bash
# Runs every check and test. Needs only Rust (with rustfmt and clippy) on Debian 12; the
# engine crate has no system dependency (SQLite is compiled in by sqlx).
set -euo pipefail
cd "$(dirname "$0")/.."

if cargo fmt --version >/dev/null 2>&1; then
  cargo fmt --all -- --check
else
  echo "warning: rustfmt is not installed; skipping the format check" >&2
fi
if cargo clippy --version >/dev/null 2>&1; then
  cargo clippy --workspace --all-targets --locked -- -D warnings
else
  echo "warning: clippy is not installed; skipping lints" >&2
fi
cargo test --workspace --locked
