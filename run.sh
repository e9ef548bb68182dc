#!/usr/bin/env bash
# Sets up and runs the Signpost app on the embedded default region (works offline).
# With --cli, runs the command-line demo instead: what is near a postcode, with no referral.
set -euo pipefail
cd "$(dirname "$0")"
# The app needs no tauri-cli to run (only the package test does).
SIGNPOST_SKIP_TAURI_CLI=1 ./scripts/setup-system.sh
if [ "${1:-}" = "--cli" ]; then
  cargo build --release --locked -p signpost-cli
  postcode="${2:-NR20}"
  echo
  echo "What is near $postcode, needing no referral (embedded default region, offline):"
  exec ./target/release/signpost near --postcode "$postcode" --no-referral
fi
./scripts/build-ui.sh
cargo build --release --locked -p signpost-app
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "No display found. On a headless machine run: xvfb-run -a ./run.sh  (or ./run.sh --cli)" >&2
  exit 1
fi
exec ./target/release/signpost-app "$@"
