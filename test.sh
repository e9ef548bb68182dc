#!/usr/bin/env bash
# Sets up and runs every test of the workspace, including the app's end-to-end tests (the real
# app under Xvfb, driven through tauri-driver and WebKitWebDriver), then builds the app's .deb,
# installs it and starts the installed app (scripts/test-package.sh).
set -euo pipefail
cd "$(dirname "$0")"
./scripts/setup-system.sh
./scripts/build-ui.sh
cargo test --workspace --locked
./scripts/test-package.sh
