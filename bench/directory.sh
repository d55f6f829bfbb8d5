#!/usr/bin/env bash
# Directory benchmark (issue 17), on SQLite, at subdistrict scale: 洲心街道's 22 communities
# (240,000 residents) with 500 listings each, every one with weekly hours; then the
# public "open now, within 15 minutes' walk of here" search of one community, by 16
# clients at once for 20 s (target: p99 under 30 ms), as JSON and as the page.
# Usage: bench/directory.sh      (needs wrk and sqlite3)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
BIN=${CARGO_TARGET_DIR:-target}/release/linli
DATA=$(mktemp -d)
PORT=${PORT:-18087}
P=http://127.0.0.1:$PORT
SERVER=
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT
CODE=441802005001 # 连江社区

$BIN demo --no-serve --scale subdistrict --data-dir "$DATA" >/dev/null 2>&1
$BIN directory bench --data-dir "$DATA" --listings 500
read -r LAT LNG < <(sqlite3 -separator ' ' "$DATA/linli.db" "SELECT center_lat, center_lng FROM communities WHERE code = '$CODE'")
echo "listings with hours: $(sqlite3 "$DATA/linli.db" 'SELECT COUNT(*) FROM listings'), rules: $(sqlite3 "$DATA/linli.db" 'SELECT COUNT(*) FROM opening_hours')"

$BIN serve --data-dir "$DATA" --listen 127.0.0.1:$PORT >/dev/null 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do curl -sf "$P/healthz" >/dev/null && break; sleep 0.1; done
sleep 1
ASK="open_now=true&walk=15&lat=$LAT&lng=$LNG"
echo "found: $(curl -s "$P/api/v1/public/$CODE/services?$ASK" | grep -o '"total":[0-9]*')"
for path in "/api/v1/public/$CODE/services?$ASK" "/p/$CODE/services?$ASK&need=haircut"; do
  echo
  echo "## GET $path, 16 clients, 20 s"
  wrk -t2 -c16 -d20s --latency "$P$path" | grep -E "Latency|50%|90%|99%|Requests/sec|requests in|Non-2xx"
done
echo
printf 'server memory after the load: %s MB\n' "$(awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/$SERVER/status)"
