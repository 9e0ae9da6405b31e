#!/usr/bin/env bash
# Installs the Debian packages the desktop app and its end-to-end test need, when missing:
# WebKitGTK and the tray library to build and run the app; libdbus for the engine's keychain
# (the Secret Service, through the keyring crate) and the login manager's sleep signal; Xvfb,
# WebKitWebDriver and D-Bus for the real-window test (dbus-send for the sleep-signal test);
# gnome-keyring for the keychain test against a real Secret Service.
# Runs `apt-get update` only when something is missing.
set -euo pipefail

apt_packages=(
  libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev libsoup-3.0-dev
  build-essential libssl-dev file pkg-config xvfb xauth webkit2gtk-driver dbus-x11 dbus-daemon dbus-bin
  libdbus-1-dev gnome-keyring
)
missing=()
for package in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' ||
    missing+=("$package")
done
if ((${#missing[@]})); then
  printf '\n==> apt-get install %s\n' "${missing[*]}"
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
