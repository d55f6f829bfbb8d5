#!/usr/bin/env bash
# Dashboard benchmark (issue 19), on SQLite, at subdistrict scale: 洲心街道's 22 communities
# with 1,000,000 historical tickets and a year of service records (300,000), as its
# administrator, over HTTP on the same machine:
#   - the subdistrict's dashboard, every figure of 22 communities (target: under 200 ms);
#   - drilling down: a community's grids, and a grid's tickets behind a figure (under 100 ms);
#   - the month's subdistrict report, Excel and PDF of 22 communities (under 30 s).
# Usage: bench/dashboard.sh          (needs sqlite3, curl, bc)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
BIN=${CARGO_TARGET_DIR:-target}/release/linli
DATA=$(mktemp -d)
PORT=${PORT:-18083}
P=http://127.0.0.1:$PORT
SERVER=
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT

echo "## loading: linli demo --scale subdistrict --tickets 1000000 --service-records 300000"
START=$(date +%s.%N)
$BIN demo --scale subdistrict --tickets 1000000 --service-records 300000 --no-serve --data-dir "$DATA" >/dev/null 2>&1
printf 'loaded in %.0f s: %s tickets, %s service records\n\n' "$(echo "$(date +%s.%N) - $START" | bc)" \
  "$(sqlite3 "$DATA/linli.db" 'SELECT COUNT(*) FROM tickets')" \
  "$(sqlite3 "$DATA/linli.db" "SELECT COUNT(*) FROM service_records")"
CODE=441802005001 # 连江社区
SUB=$(sqlite3 "$DATA/linli.db" "SELECT subdistrict_id FROM communities WHERE code = '$CODE'")
C=$(sqlite3 "$DATA/linli.db" "SELECT id FROM communities WHERE code = '$CODE'")
GRID=$(sqlite3 "$DATA/linli.db" "SELECT grid_id FROM tickets WHERE community_id = $C AND grid_id IS NOT NULL GROUP BY grid_id ORDER BY COUNT(*) DESC LIMIT 1")
MONTH=$(date -d "$(date +%Y-%m-01) -1 month" +%Y-%m)

$BIN serve --data-dir "$DATA" --listen 127.0.0.1:$PORT >/dev/null 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do curl -sf "$P/healthz" >/dev/null && break; sleep 0.1; done
sleep 2
COOKIE=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' \
  -d '{"username":"street","password":"demo1234"}' "$P/api/v1/session" \
  | awk -F'[ ;]' 'tolower($1)=="set-cookie:" {print $2}')

echo "## 洲心街道, month $MONTH, as its administrator"
echo
echo "| what | runs | median | slowest |"
echo "|---|---|---|---|"
time_it() { # runs url
  local times
  times=$(for _ in $(seq 1 "$1"); do
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H "Cookie: $COOKIE" "$P$2"
  done)
  if echo "$times" | grep -qv '^200 '; then echo "$times" | head -3; echo "not 200: $2"; exit 1; fi
  times=$(echo "$times" | awk '{print $2}' | sort -n)
  local mid=$(( ($1 + 1) / 2 ))
  printf '| `GET %s` | %s | %.0f ms | %.0f ms |\n' "$2" "$1" \
    "$(echo "$times" | sed -n ${mid}p | awk '{print $1*1000}')" "$(echo "$times" | tail -1 | awk '{print $1*1000}')"
}
time_it 20 "/subdistricts/$SUB/dashboard?month=$MONTH&figure=completion_rate&order=worst"
time_it 20 "/api/v1/subdistricts/$SUB/figures?month=$MONTH"
time_it 20 "/c/$CODE/dashboard?month=$MONTH&figure=overdue_tickets"
time_it 20 "/c/$CODE/dashboard/figures/overdue_tickets?month=$MONTH&grid=$GRID"
time_it 20 "/c/$CODE/dashboard/figures/tickets_received?month=$MONTH&grid=$GRID"
time_it 3 "/subdistricts/$SUB/dashboard/trend?month=$MONTH&figure=completion_rate"
time_it 3 "/subdistricts/$SUB/dashboard.xlsx?month=$MONTH"
time_it 3 "/subdistricts/$SUB/dashboard.pdf?month=$MONTH"
echo
printf 'server memory after the load: %s MB\n' "$(awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/$SERVER/status)"
