#!/usr/bin/env bash
# Installs the Debian packages Signpost needs to build and test, if any are missing.
# Called by run.sh and test.sh; safe to run again.
set -euo pipefail

packages=(
  build-essential pkg-config ca-certificates file libssl-dev
  # Tauri's Linux build (WebKitGTK 4.1, GTK 3)
  libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev libayatana-appindicator3-dev
  libsoup-3.0-dev libjavascriptcoregtk-4.1-dev libxdo-dev
  # the app's end-to-end tests: a virtual display, WebKitWebDriver, screenshots
  xvfb xauth imagemagick webkit2gtk-driver fonts-dejavu-core
  # the package test (scripts/test-package.sh): finding the installed app's window by its title
  x11-utils
  # reading back the plan the app saves as a PDF
  poppler-utils
  # the feed's reminder mail tests: a real SMTP server on 127.0.0.1
  python3-aiosmtpd
  # the feed's moderation pages in a real browser (headless Chromium over WebDriver)
  chromium chromium-driver
  # a published sync folder served by a real static web server (deploy/nginx/)
  nginx-light
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "Installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "Rust is not installed. Install a stable Rust toolchain (https://rustup.rs) and run this again." >&2
  exit 1
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "Node.js and npm are not installed. Install Node.js 20 or newer and run this again." >&2
  exit 1
fi

# tauri-driver bridges WebDriver clients to the app's WebKitWebDriver (end-to-end tests).
if [ "${SIGNPOST_SKIP_TAURI_DRIVER:-}" != "1" ] && ! command -v tauri-driver >/dev/null 2>&1; then
  echo "Installing tauri-driver from crates.io"
  cargo install tauri-driver --locked --version 2.1.0
fi

# tauri-cli (`cargo tauri build`) bundles the app as a .deb (scripts/test-package.sh). Installed
# only when this version is not already there.
TAURI_CLI_VERSION=2.12.4
if [ "${SIGNPOST_SKIP_TAURI_CLI:-}" != "1" ] &&
  [ "$(cargo tauri --version 2>/dev/null)" != "tauri-cli $TAURI_CLI_VERSION" ]; then
  echo "Installing tauri-cli $TAURI_CLI_VERSION from crates.io"
  cargo install tauri-cli --locked --version "$TAURI_CLI_VERSION"
fi
