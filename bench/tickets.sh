#!/usr/bin/env bash
# Tickets benchmark (issue 3), on SQLite, on the subdistrict-scale demo with 1,000,000
# historical tickets, with the load generator (wrk) on the same machine:
#   - the subdistrict's statistics page (target: under 200 ms);
#   - GET /open311/v2/requests.json, 100 tickets a page (target: 10,000 per second);
#   - durable submissions, POST /open311/v2/requests.json (target: 20,000 per second),
#     then a count of what reached the database against what was acknowledged.
# Usage: bench/tickets.sh            (needs wrk, sqlite3, curl, python3; installs wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || apt-get install -y -q wrk >/dev/null
cargo build --release -q
BIN=${CARGO_TARGET_DIR:-target}/release/linli
DATA=$(mktemp -d)
PORT=${PORT:-18082}
P=http://127.0.0.1:$PORT
SERVER=
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT

echo "## loading: linli demo --scale subdistrict --tickets 1000000"
START=$(date +%s.%N)
$BIN demo --scale subdistrict --tickets 1000000 --no-serve --data-dir "$DATA" >/dev/null 2>&1
printf 'loaded in %.0f s: %s tickets\n\n' "$(echo "$(date +%s.%N) - $START" | bc)" \
  "$(sqlite3 "$DATA/linli.db" 'SELECT COUNT(*) FROM tickets')"
CODE=441802005001 # 连江社区
KEY=$($BIN api-key create --community $CODE --data-dir "$DATA" 2>/dev/null)

$BIN serve --data-dir "$DATA" --listen 127.0.0.1:$PORT >/dev/null 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do curl -sf "$P/healthz" >/dev/null && break; sleep 0.1; done
sleep 2

COOKIE=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' \
  -d '{"username":"street","password":"demo1234"}' "$P/api/v1/session" \
  | awk -F'[ ;]' 'tolower($1)=="set-cookie:" {print $2}')
SUB=$(sqlite3 "$DATA/linli.db" "SELECT subdistrict_id FROM communities WHERE code = '$CODE'")
echo "## statistics of 洲心街道 (22 communities, all tickets), as its administrator"
echo
echo "| what | runs | median | slowest |"
echo "|---|---|---|---|"
for url in "/subdistricts/$SUB/tickets/stats" "/api/v1/subdistricts/$SUB/tickets/stats"; do
  times=$(for _ in $(seq 1 20); do
    curl -s -o /dev/null -w '%{time_total}\n' -H "Cookie: $COOKIE" "$P$url"
  done | sort -n)
  printf '| `GET %s` | 20 | %.0f ms | %.0f ms |\n' "$url" \
    "$(echo "$times" | sed -n 10p | awk '{print $1*1000}')" "$(echo "$times" | tail -1 | awk '{print $1*1000}')"
done

echo
echo "## Open311 listing, GET /open311/v2/requests.json?jurisdiction_id=$CODE (100 tickets)"
echo
echo "| answer | connections | requests/s | p50 | p99 |"
echo "|---|---|---|---|---|"
LUA=$DATA/bench.lua
cat >"$LUA" <<'EOF'
-- A fresh query string each time, so that no answer is reused.
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", os.getenv("LIST_URL") .. "&_=" .. counter .. "-" .. math.random(1000000000))
end
EOF
row() { # label connections wrk-output
  echo "| $1 | $2 | $(echo "$3" | awk '/Requests\/sec/ {print $2}') | $(echo "$3" | awk '$1=="50%" {print $2}') | $(echo "$3" | awk '$1=="99%" {print $2}') |"
}
LIST="/open311/v2/requests.json?jurisdiction_id=$CODE"
row "the same query (as clients poll)" 64 "$(wrk -t2 -c64 -d10s --latency "$P$LIST")"
row "a different query each time" 64 "$(LIST_URL=$LIST wrk -t2 -c64 -d10s --latency -s "$LUA" "$P")"

echo
echo "## durable submissions, POST /open311/v2/requests.json"
echo
cat >"$LUA" <<'EOF'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
counter = 0
request = function()
  counter = counter + 1
  local body = "jurisdiction_id=" .. os.getenv("CODE") .. "&service_code=11&api_key=" .. os.getenv("KEY")
    .. "&lat=23.7" .. (counter % 97) .. "&long=113.0" .. (counter % 89)
    .. "&description=%E8%B7%AF%E7%81%AF%E4%B8%8D%E4%BA%AE%20" .. counter
  return wrk.format(nil, nil, nil, body)
end
EOF
echo "| connections | requests/s | p50 | p99 | acknowledged | in the database |"
echo "|---|---|---|---|---|---|"
for c in 64 256; do
  before=$(sqlite3 "$DATA/linli.db" "SELECT COUNT(*) FROM tickets WHERE channel = 'open311'")
  out=$(CODE=$CODE KEY=$KEY wrk -t2 -c$c -d10s --latency -s "$LUA" "$P/open311/v2/requests.json")
  if echo "$out" | grep -q "Non-2xx"; then echo "$out"; echo "some submissions were refused"; exit 1; fi
  sleep 1
  after=$(sqlite3 "$DATA/linli.db" "SELECT COUNT(*) FROM tickets WHERE channel = 'open311'")
  acked=$(echo "$out" | awk '/requests in/ {print $1}')
  echo "| $c | $(echo "$out" | awk '/Requests\/sec/ {print $2}') | $(echo "$out" | awk '$1=="50%" {print $2}') | $(echo "$out" | awk '$1=="99%" {print $2}') | $acked | $((after - before)) |"
done
echo
printf 'server memory after the load: %s MB\n' "$(awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/$SERVER/status)"
