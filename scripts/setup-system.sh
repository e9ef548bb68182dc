#!/usr/bin/env bash
# Installs the Debian packages Signpost needs to build and test, if any are missing.
# Called by run.sh and test.sh; safe to run again.
set -euo pipefail

packages=(build-essential pkg-config ca-certificates)

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
