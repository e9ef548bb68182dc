#!/usr/bin/env bash
# Load-tests the feed server with wrk: a release `signpost-feed serve` of a 100k-listing feed
# (the bench's synthetic listings), the figures BENCHMARKS.md reports for issue 9.
# Needs Debian's wrk (apt-get install wrk); not part of CI. Usage:
#   scripts/bench-feed.sh [WORK_DIR]     (env: N=100000, SECONDS_EACH=15, POSTCODE=M1)
# WORK_DIR keeps the listings file and the feed between runs (it is built once).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-100000}
SECONDS_EACH=${SECONDS_EACH:-15}
POSTCODE=${POSTCODE:-M1}
WORK=${1:-$(mktemp -d)}
mkdir -p "$WORK"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }

nice -n 10 cargo build --release --locked -p signpost-feed
FEED=target/release/signpost-feed
if [ ! -f "$WORK/feed/feed.db" ]; then
  nice -n 10 cargo build --release --locked -p signpost-bench
  target/release/signpost-bench --sizes "$N" --listings-file "$WORK/listings.json"
  "$FEED" --data "$WORK/feed" import "$WORK/listings.json" | head -1
fi

"$FEED" --data "$WORK/feed" serve --listen 127.0.0.1:0 >"$WORK/serve.out" 2>"$WORK/serve.log" &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  grep -q listening "$WORK/serve.out" 2>/dev/null && break
  sleep 0.1
done
URL=$(sed -n 's/^listening on //p' "$WORK/serve.out")
echo "serving $N listings at $URL (pid $PID); $(nproc) cores; $(date -u +%FT%TZ)"
rss() { awk '/VmRSS/ {printf "%.0f MB", $2 / 1024}' "/proc/$PID/status"; }
peak() { awk '/VmHWM/ {printf "%.0f MB", $2 / 1024}' "/proc/$PID/status"; }
echo "RSS after start: $(rss)"

NEAR="/service_at_locations?postcode=$POSTCODE&proximity=5000"
# The first proximity query builds the search index; it is not a steady-state figure.
curl -s -o /dev/null "$URL$NEAR"
echo "RSS with the search index built: $(rss)"

run() { # title, connections, path
  echo; echo "== $1: wrk -t2 -c$2 -d${SECONDS_EACH}s --latency $3"
  wrk -t2 -c"$2" -d"${SECONDS_EACH}s" --latency "$URL$3" | grep -E "Requests/sec|^ +(50|99)%|Socket errors|Non-2xx"
  echo "   server RSS: $(rss) now, $(peak) peak so far"
}
run "ORUK services page" 64 "/services?per_page=50"
run "services near a postcode" 64 "$NEAR"

# The heaviest allowed query: the largest page of the widest search around a point.
HEAVY="/service_at_locations?postcode=$POSTCODE&proximity=1000000&per_page=100&page=7"
LIST="/services?per_page=100&search=choir"
echo; echo "== /sync/head while heavy list queries run (wrk -t1 -c32 on $LIST and on $HEAVY)"
wrk -t1 -c32 -d"$((SECONDS_EACH + 4))s" "$URL$LIST" >"$WORK/list.out" &
L1=$!
wrk -t1 -c32 -d"$((SECONDS_EACH + 4))s" "$URL$HEAVY" >"$WORK/heavy.out" &
L2=$!
sleep 2
wrk -t1 -c4 -d"${SECONDS_EACH}s" --latency "$URL/sync/head" | grep -E "Requests/sec|^ +(50|99)%"
wait $L1 $L2
echo "   (the list loads meanwhile: $(grep Requests/sec "$WORK/list.out") and $(grep Requests/sec "$WORK/heavy.out"))"
echo "   server RSS: $(rss) now, $(peak) peak so far"

run "heaviest allowed query at 256 connections" 256 "$HEAVY"
echo "RSS after: $(rss); peak RSS of the server over the whole run: $(peak)"
