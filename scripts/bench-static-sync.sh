#!/usr/bin/env bash
# Issue 13's figures: sync requests per second from Debian's nginx serving a published folder
# (deploy/nginx/signpost-sync.conf) against a release `signpost-feed serve` of the same feed, in
# the same run, with wrk on the same machine; and the bytes of a first sync and of a day's delta
# for a 100k-listing region. Needs Debian's nginx and wrk; not part of CI. Usage:
#   scripts/bench-static-sync.sh [WORK_DIR]     (env: N=100000, SECONDS_EACH=10, DELTA=1000)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-100000}
SECONDS_EACH=${SECONDS_EACH:-10}
DELTA=${DELTA:-1000}
WORK=${1:-$(mktemp -d)}
WORK=$(cd "$WORK" && pwd)
mkdir -p "$WORK"
for tool in wrk nginx jq; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || { echo "$tool is missing: apt-get install $tool" >&2; exit 1; }
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

nice -n 10 cargo build --release --locked -p signpost-feed -p signpost-bench -p signpost-cli
FEED=target/release/signpost-feed
CLI=target/release/signpost
rm -rf "$WORK/feed" "$WORK/www" "$WORK/nginx" "$WORK"/client*.db*
target/release/signpost-bench --sizes "$N" --sync-sizes 0 --listings-file "$WORK/listings.json" >/dev/null
"$FEED" --data "$WORK/feed" import "$WORK/listings.json" | head -1
"$FEED" --data "$WORK/feed" snapshot
"$FEED" --data "$WORK/feed" publish --to "$WORK/www"

mkdir -p "$WORK/nginx"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$WORK/nginx/nginx.conf" <<EOF
user root;
worker_processes auto;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/body; proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi; uwsgi_temp_path $WORK/nginx/uwsgi; scgi_temp_path $WORK/nginx/scgi;
  include /etc/nginx/mime.types;
  sendfile on;
  server {
    listen 127.0.0.1:$PORT;
    root $WORK/www;
    include $PWD/deploy/nginx/signpost-sync.conf;
  }
}
EOF
"$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" 2>/dev/null &
NGINX_PID=$!
"$FEED" --data "$WORK/feed" serve --listen 127.0.0.1:0 >"$WORK/serve.out" 2>"$WORK/serve.log" &
FEED_PID=$!
trap 'kill -QUIT $NGINX_PID 2>/dev/null || true; kill $FEED_PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  grep -q listening "$WORK/serve.out" 2>/dev/null && break
  sleep 0.1
done
ORIGIN=$(sed -n 's/^listening on //p' "$WORK/serve.out")
STATIC="http://127.0.0.1:$PORT"
echo "$N listings; nginx at $STATIC ($(nproc) workers), signpost-feed at $ORIGIN; $(nproc) cores; $(date -u +%FT%TZ)"

HASH=$(jq -r '.log.recent[-1].hash // .hash' "$WORK/www/sync/head.json")
run() { # title, url
  echo "== $1: wrk -t2 -c64 -d${SECONDS_EACH}s --latency $2"
  wrk -t2 -c64 -d"${SECONDS_EACH}s" --latency "$2" | grep -E "Requests/sec|Transfer/sec|^ +(50|99)%|Non-2xx|Socket errors"
}
run "head, nginx" "$STATIC/sync/head.json"
run "head, signpost-feed" "$ORIGIN/sync/head.json"
run "a changeset ($(stat -c %s "$WORK/www/sync/changesets/$HASH") bytes gzip), nginx" "$STATIC/sync/changesets/$HASH"
run "the same changeset, signpost-feed" "$ORIGIN/sync/changesets/$HASH"

echo
echo "== bytes"
SNAPSHOT=$(jq -r '.snapshot.hash' "$WORK/www/sync/head.json")
HEAD_BYTES=$(stat -c %s "$WORK/www/sync/head.json")
HEAD_GZ=$(gzip -c "$WORK/www/sync/head.json" | wc -c)
echo "head.json: $HEAD_BYTES bytes ($HEAD_GZ gzip)"
echo "first sync: snapshot $(stat -c %s "$WORK/www/sync/snapshots/$SNAPSHOT") bytes gzip ($(jq -r '.snapshot.bytes' "$WORK/www/sync/head.json") inflated) + head"
cp -r "$WORK/www" "$WORK/www.before"
echo
echo "== a client's first sync from nginx (the release CLI; wall time)"
/usr/bin/time -f "first sync: %e s, %M KB peak RSS" "$CLI" --db "$WORK/client.db" sync --feed "$STATIC" | tail -1

# A day's delta: DELTA listings renamed (1% of 100k).
jq --argjson d "$DELTA" '[.[:$d][] | .name = (.name + " (changed)")]' "$WORK/listings.json" >"$WORK/delta.json"
"$FEED" --data "$WORK/feed" import "$WORK/delta.json" | head -1
"$FEED" --data "$WORK/feed" publish --to "$WORK/www"
NEW=$(comm -13 <(ls "$WORK/www.before/sync/changesets") <(ls "$WORK/www/sync/changesets"))
DELTA_BYTES=0
for h in $NEW; do DELTA_BYTES=$((DELTA_BYTES + $(stat -c %s "$WORK/www/sync/changesets/$h"))); done
echo "a day's delta ($DELTA listings changed): $(echo "$NEW" | wc -w) changeset(s), $DELTA_BYTES bytes gzip + head ($(stat -c %s "$WORK/www/sync/head.json") bytes)"
/usr/bin/time -f "the client's delta sync: %e s" "$CLI" --db "$WORK/client.db" sync --feed "$STATIC" | tail -1

echo
DAY=$(echo "$NEW" | head -1)
run "the day's changeset ($(stat -c %s "$WORK/www/sync/changesets/$DAY") bytes gzip), nginx" "$STATIC/sync/changesets/$DAY"
run "the same changeset, signpost-feed" "$ORIGIN/sync/changesets/$DAY"
run "head after the delta, nginx" "$STATIC/sync/head.json"
run "head after the delta, signpost-feed" "$ORIGIN/sync/head.json"
