#!/usr/bin/env bash
# Foundation benchmark (issue 2), on SQLite:
#   - `linli demo --scale subdistrict` loads ~240,000 residents (target: under 60 s);
#   - registry search over the whole subdistrict by name and by masked phone
#     (target: under 50 ms);
#   - the server's memory at idle (target: under 50 MB), and `linli demo`'s once it has
#     loaded the subdistrict and serves it (the same target).
# Usage: bench/registry.sh            (needs wrk; installs it with apt if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || apt-get install -y -q wrk >/dev/null
cargo build --release -q
BIN=${CARGO_TARGET_DIR:-target}/release/linli
DATA=$(mktemp -d)
PORT=${PORT:-18080}
SERVER=
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT

echo "## linli demo --scale subdistrict (SQLite)"
START=$(date +%s.%N)
$BIN demo --scale subdistrict --no-serve --data-dir "$DATA" 2>/dev/null > "$DATA/demo.out"
head -1 "$DATA/demo.out"
END=$(date +%s.%N)
RESIDENTS=$(sqlite3 "$DATA/linli.db" "SELECT COUNT(*) FROM residents" 2>/dev/null || echo "?")
printf 'wall time: %.1f s for %s residents\n\n' "$(echo "$END - $START" | bc)" "$RESIDENTS"

$BIN serve --data-dir "$DATA" --listen 127.0.0.1:$PORT 2>/dev/null &
SERVER=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
sleep 2
echo "## memory"
printf 'idle after start: %s MB\n' "$(awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/$SERVER/status)"

COOKIE=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' \
  -d '{"username":"street","password":"demo1234"}' "http://127.0.0.1:$PORT/api/v1/session" \
  | awk -F'[ ;]' 'tolower($1)=="set-cookie:" {print $2}')
SUB=$(curl -s -H "Cookie: $COOKIE" "http://127.0.0.1:$PORT/api/v1/subdistricts?q=%E6%B4%B2%E5%BF%83" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
# A real name and a real masked phone from the data.
read -r NAME MASKED TAIL <<<"$(curl -s -H "Cookie: $COOKIE" "http://127.0.0.1:$PORT/api/v1/subdistricts/$SUB/residents?per_page=50" \
  | python3 -c 'import json,sys; r=[x for x in json.load(sys.stdin)["items"] if x["phone"]][0]; print(r["name"], r["phone"], r["phone"][-4:])')"
enc() { python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1"; }
SURNAME=${NAME:0:1}

echo
echo "## registry search across 洲心街道 (22 communities), GET /api/v1/subdistricts/{id}/residents"
echo
echo "| query | connections | requests/s | p50 | p99 |"
echo "|---|---|---|---|---|"
for spec in "surname $SURNAME" "full name $NAME" "masked phone $MASKED" "last four digits $TAIL"; do
  label=${spec% *}; q=${spec##* }
  url="http://127.0.0.1:$PORT/api/v1/subdistricts/$SUB/residents?q=$(enc "$q")&per_page=20"
  for c in 1 8; do
    out=$(wrk -t1 -c$c -d8s --latency -H "Cookie: $COOKIE" "$url")
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p50=$(echo "$out" | awk '$1=="50%" {print $2}')
    p99=$(echo "$out" | awk '$1=="99%" {print $2}')
    echo "| $label \`$q\` | $c | $rps | $p50 | $p99 |"
  done
done
sleep 5
echo
printf 'memory 5 s after the load: %s MB\n' "$(awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/$SERVER/status)"
# Unused SQLite readers close after 30 s (src/db/mod.rs, READER_IDLE); the pool checks every 30 s.
sleep 60
printf 'memory at idle, a minute later: %s MB\n' "$(awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/$SERVER/status)"
kill $SERVER 2>/dev/null || true
wait $SERVER 2>/dev/null || true

echo
echo "## linli demo --scale subdistrict, serving what it loaded"
DEMO=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DATA" "$DEMO"' EXIT
$BIN demo --scale subdistrict --data-dir "$DEMO" --listen 127.0.0.1:$PORT >/dev/null 2>&1 &
SERVER=$!
for _ in $(seq 1 1200); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
sleep 5
printf 'memory once serving: %s MB\n' "$(awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/$SERVER/status)"
