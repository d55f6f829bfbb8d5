#!/usr/bin/env bash
# Events benchmark (issue 15), on SQLite, on the demo, with the load generator (wrk) on the
# same machine:
#   - check-ins through the API, each a new code with its own scan key, at 64 connections
#     (target: 2,000 per second, p99 under 50 ms), then a count of who was checked in
#     against what was acknowledged;
#   - a freed seat's offer: from the holder giving it up to the next person seeing it offered
#     (target: within 1 s);
#   - the community's iCalendar feed with 5,000 sessions (target: under 100 ms).
# Usage: bench/events.sh            (needs wrk, sqlite3, curl, python3; installs wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || apt-get install -y -q wrk >/dev/null
cargo build --release -q
BIN=${CARGO_TARGET_DIR:-target}/release/linli
DATA=$(mktemp -d)
PORT=${PORT:-18083}
P=http://127.0.0.1:$PORT
SERVER=
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT
CODE=440804003001 # 海盛社区

$BIN demo --no-serve --data-dir "$DATA" >/dev/null 2>&1
DB="$DATA/linli.db"
C=$(sqlite3 "$DB" "SELECT id FROM communities WHERE code = '$CODE'")
STAFF=$(sqlite3 "$DB" "SELECT id FROM users WHERE username = 'staff'")
STATION=$(sqlite3 "$DB" "SELECT MIN(id) FROM stations WHERE community_id = $C")
NOW=$(($(date +%s) * 1000))
# The door's event: 40 sessions of 2,000 seats each, every seat taken by a sign-up whose code
# a thread of wrk will scan (thread 1: 10000000…, thread 2: 20000000…); a session of one seat
# for the offers; and a class of 5,000 hourly sessions for the feed. Written straight into the database, as an import would.
sqlite3 "$DB" <<SQL
PRAGMA foreign_keys = ON;
INSERT INTO events (community_id, id, kind, title, organiser, audience, claim_hours, status, created_by, created_at, updated_at)
VALUES ($C, 900000000001, 'festival', '压力测试·游园会', '社区', 'everyone', 2, 'published', $STAFF, $NOW, $NOW),
       ($C, 900000000002, 'class', '压力测试·日历', '社区', 'everyone', 2, 'published', $STAFF, $NOW, $NOW);
INSERT INTO event_sessions (community_id, id, event_id, station_id, starts_at, ends_at, capacity, held_back, taken, status, created_at)
VALUES ($C, 900000099999, 900000000001, $STATION, $NOW + 2592000000, $NOW + 2595600000, 1, 0, 0, 'scheduled', $NOW);
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 39)
INSERT INTO event_sessions (community_id, id, event_id, station_id, starts_at, ends_at, capacity, held_back, taken, status, created_at)
SELECT $C, 900000100000 + i, 900000000001, $STATION, $NOW + 3600000, $NOW + 7200000, 2000, 0, 2000, 'scheduled', $NOW FROM n;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 79999)
INSERT INTO event_signups (community_id, id, event_id, session_id, name, status, code, created_at, updated_at)
SELECT $C, 900001000000 + i, 900000000001, 900000100000 + (i % 40), '居民' || i, 'seated',
       CAST((CASE WHEN i < 40000 THEN 10000000 + i ELSE 20000000 + i - 40000 END) AS TEXT), $NOW, $NOW FROM n;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 4999)
INSERT INTO event_sessions (community_id, id, event_id, station_id, starts_at, ends_at, capacity, held_back, taken, status, created_at)
SELECT $C, 900000200000 + i, 900000000002, $STATION, $NOW + 86400000 + i * 3600000, $NOW + 86400000 + i * 3600000 + 3000000,
       20, 0, 0, 'scheduled', $NOW FROM n;
SQL

$BIN serve --data-dir "$DATA" --listen 127.0.0.1:$PORT >/dev/null 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do curl -sf "$P/healthz" >/dev/null && break; sleep 0.1; done
sleep 1
cookie() {
  curl -s -D - -o /dev/null -H 'Content-Type: application/json' \
    -d "{\"username\":\"$1\",\"password\":\"demo1234\"}" "$P/api/v1/session" \
    | awk -F'[ ;]' 'tolower($1)=="set-cookie:" {print $2}'
}
GRID=$(cookie grid)

echo "## check-ins at the door, POST /api/v1/communities/$CODE/events/{id}/check-ins"
echo
LUA=$DATA/checkin.lua
cat >"$LUA" <<'EOF'
-- Each thread scans its own codes, each scan with its own key.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("base", threads * 10000000)
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Cookie"] = os.getenv("COOKIE")
counter = 0
request = function()
  local code = base + counter
  counter = counter + 1
  return wrk.format(nil, nil, nil, '{"code":"' .. code .. '","scan_key":"k' .. code .. '"}')
end
EOF
echo "| connections | check-ins/s | p50 | p99 | acknowledged | checked in |"
echo "|---|---|---|---|---|---|"
out=$(COOKIE=$GRID wrk -t2 -c64 -d10s --latency -s "$LUA" "$P/api/v1/communities/$CODE/events/900000000001/check-ins")
if echo "$out" | grep -q "Non-2xx"; then echo "$out"; echo "some check-ins were refused"; exit 1; fi
acked=$(echo "$out" | awk '/requests in/ {print $1}')
done_=$(sqlite3 "$DB" "SELECT COUNT(*) FROM event_signups WHERE event_id = 900000000001 AND checked_in_at IS NOT NULL")
echo "| 64 | $(echo "$out" | awk '/Requests\/sec/ {print $2}') | $(echo "$out" | awk '$1=="50%" {print $2}') | $(echo "$out" | awk '$1=="99%" {print $2}') | $acked | $done_ |"

echo
echo "## a freed seat's offer: the holder gives it up, the next person looks"
echo
RESIDENT=$(cookie resident) VOLUNTEER=$(cookie volunteer) P=$P CODE=$CODE python3 - <<'EOF'
import json, os, statistics, time, urllib.request
P, CODE = os.environ["P"], os.environ["CODE"]
API = f"/api/v1/communities/{CODE}"
def call(cookie, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(P + API + path, method=method, data=data,
                                 headers={"Cookie": cookie, "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read() or b"{}")
session = 900000099999  # one seat
def sign_up(cookie):
    return call(cookie, "POST", f"/event-sessions/{session}/signups", {})
holder, waiting = os.environ["RESIDENT"], os.environ["VOLUNTEER"]
held, queued = sign_up(holder), sign_up(waiting)
assert (held["status"], queued["status"]) == ("seated", "waiting"), (held, queued)
took = []
for _ in range(20):
    start = time.perf_counter()
    call(holder, "POST", f"/event-signups/{held['id']}/cancel")
    while True:
        mine = call(waiting, "GET", "/events/900000000001")["mine"]
        if next(m for m in mine if m["id"] == queued["id"])["status"] == "offered":
            break
    took.append((time.perf_counter() - start) * 1000)
    call(waiting, "POST", f"/event-signups/{queued['id']}/claim")
    # The one who gave it up queues again; the roles turn.
    holder, waiting, held, queued = waiting, holder, queued, sign_up(holder)
took.sort()
print("| rounds | median | slowest |")
print("|---|---|---|")
print(f"| {len(took)} | {statistics.median(took):.0f} ms | {took[-1]:.0f} ms |")
EOF
echo
echo "## the community's calendar feed, GET /p/$CODE/events.ics (5,000 sessions and the demo's)"
echo
echo "| runs | entries | median | slowest |"
echo "|---|---|---|---|"
entries=$(curl -s "$P/p/$CODE/events.ics" | grep -c BEGIN:VEVENT)
times=$(for _ in $(seq 1 20); do curl -s -o /dev/null -w '%{time_total}\n' "$P/p/$CODE/events.ics"; done | sort -n)
printf '| 20 | %s | %.0f ms | %.0f ms |\n' "$entries" \
  "$(echo "$times" | sed -n 10p | awk '{print $1*1000}')" "$(echo "$times" | tail -1 | awk '{print $1*1000}')"
echo
printf 'server memory after the load: %s MB\n' "$(awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/$SERVER/status)"
