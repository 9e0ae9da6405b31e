#!/usr/bin/env bash
# Runs a command with a real Secret Service: gnome-keyring-daemon, unlocked, in a throwaway
# keyring folder, on the session bus this script is started in. Use it inside
# `dbus-run-session -- bash scripts/with-keyring.sh COMMAND...` (scripts/test.sh does).
set -euo pipefail
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  echo "with-keyring.sh: no session bus; run it under dbus-run-session" >&2
  exit 2
fi
keyrings=$(mktemp -d)
trap 'rm -rf "$keyrings"' EXIT
# Never the user's own keyring: a fresh one, unlocked with a throwaway password.
export XDG_DATA_HOME="$keyrings/data"
export XDG_RUNTIME_DIR="$keyrings/run"
mkdir -p "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
eval "$(printf '%s' sundial-test | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
"$@"
