#!/usr/bin/env bash
# Installs and builds what is missing, then opens Sundial on the shared data folder (the same
# database as sundialctl; $SUNDIAL_DATA_DIR overrides it). Needs only Rust and Node to start.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-system.sh

lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.sundial-lock 2>/dev/null)" != "$lock_hash" ]; then
  npm install --no-audit --no-fund --no-save
  echo "$lock_hash" >node_modules/.sundial-lock
fi
npm run --silent build
exec cargo run --locked -p sundial-desktop --bin sundial "$@"
