#!/usr/bin/env bash
# Regenerates the data files compiled into Signpost from their sources.
# The stop timetables are in the repository; the ONSPD postcode extract is large and is read from
# SHARED (default ../shared/data, the team's data folder) when present.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${SHARED:-../shared/data}"
cargo build --release --locked -p signpost-cli
bin=./target/release/signpost
libraries=data/sources/england-public-libraries
$bin data convert-stops data/sources/uk-mobile-library-stops --out regions/mobile-library-stops/mobile-library-stops.json.gz
$bin data convert-libraries $libraries/libraries.csv --authorities $libraries/authorities.csv --out regions/england-public-libraries/england-public-libraries.json.gz
# A Greater Manchester library that England's list has (same postcode) is listed once, from there.
$bin data convert-gm data/sources/gm-community-assets/gm_community_assets.csv --libraries $libraries/libraries.csv --out regions/greater-manchester/gm-community-assets.json.gz
if [ -f "$SHARED/uk-postcodes-onspd/postcodes.csv.gz" ]; then
  $bin data pack-postcodes "$SHARED/uk-postcodes-onspd/postcodes.csv.gz" --out data/postcodes/postcodes.pack.gz
  cp "$SHARED/uk-postcodes-onspd/postcode_districts.csv" "$SHARED/uk-postcodes-onspd/postcode_sectors.csv" data/postcodes/
  gzip -9 -n -c "$SHARED/uk-place-names-os-open-names/places.csv" > data/postcodes/places.csv.gz
else
  echo "no ONSPD extract at $SHARED; postcode tables left as they are"
fi
