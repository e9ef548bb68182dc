#!/usr/bin/env bash
# Builds the web UI (ui/dist), which the app embeds at compile time. Installs the pinned npm
# packages from package-lock.json first. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/../ui"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build
