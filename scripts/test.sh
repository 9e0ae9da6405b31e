#!/usr/bin/env bash
# Runs every check and test. Needs only Rust (with rustfmt and clippy) and Node (>= 20.19) on
# Debian 12: what else the desktop shell needs (system libraries, Xvfb, WebKitWebDriver,
# tauri-driver, npm packages) is installed here when missing, from the package registries.
# The engine crate needs only libdbus (the Secret Service keychain; SQLite is compiled in).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

# --- System packages for Tauri (WebKitGTK), the tray, and the end-to-end test -------------
bash scripts/setup-system.sh

# --- UI: install (when package-lock.json changed), type-check, lint, unit tests, build ------
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.sundial-lock 2>/dev/null)" != "$lock_hash" ]; then
  # `npm install` at the locked versions rather than `npm ci`: the registry mirror this
  # lock file was made with serves only this platform's optional packages (rollup, tailwind
  # oxide), so the lock lists only those, and `npm ci` refuses a lock missing the others.
  step "npm install (locked versions)"
  npm install --no-audit --no-fund --no-save
  echo "$lock_hash" >node_modules/.sundial-lock
fi
step "UI: tsc --noEmit"
npm run --silent typecheck
step "UI: eslint"
npm run --silent lint
step "UI: vitest"
npm run --silent test
step "UI: vite build (embedded in the app binary)"
npm run --silent build

# --- Rust: format, lints, tests (the bindings test fails when ui/src/bindings is stale) -----
if cargo fmt --version >/dev/null 2>&1; then
  step "cargo fmt --check"
  cargo fmt --all -- --check
else
  echo "warning: rustfmt is not installed; skipping the format check" >&2
fi
if cargo clippy --version >/dev/null 2>&1; then
  step "cargo clippy"
  cargo clippy --workspace --all-targets --locked -- -D warnings
else
  echo "warning: clippy is not installed; skipping lints" >&2
fi
step "cargo test"
cargo test --workspace --locked

# --- The keychain against a real Secret Service: gnome-keyring, unlocked, in a throwaway
# keyring on a private session bus (outside one the test would skip, saying so) -------------
step "keychain test (gnome-keyring in dbus-run-session)"
SUNDIAL_REQUIRE_KEYCHAIN_TEST=1 dbus-run-session -- bash scripts/with-keyring.sh \
  cargo test --workspace --locked --test secrets_keychain -- a_real_secret_service

# --- End to end: the real app window under Xvfb, driven by tauri-driver + WebKitWebDriver ---
if ! command -v tauri-driver >/dev/null 2>&1; then
  step "cargo install tauri-driver"
  cargo install tauri-driver --locked
fi
step "end-to-end (Xvfb, tauri-driver)"
# The app keeps secrets in its database here: the session bus would start a gnome-keyring
# with no unlocked keyring, whose prompt nobody answers.
SUNDIAL_SECRETS=database dbus-run-session -- xvfb-run -a -s "-screen 0 1280x800x24" \
  cargo test -p sundial-desktop --locked --test e2e -- --ignored --test-threads=1
