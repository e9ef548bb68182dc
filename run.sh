#!/usr/bin/env bash
# Sets up and runs Signpost against the embedded default region.
# Until the app lands, this is the command-line demo: what is near a postcode, with no referral.
set -euo pipefail
cd "$(dirname "$0")"
./scripts/setup-system.sh
cargo build --release --locked -p signpost-cli
postcode="${1:-NR20}"
echo
echo "What is near $postcode, needing no referral (embedded default region, offline):"
exec ./target/release/signpost near --postcode "$postcode" --no-referral
