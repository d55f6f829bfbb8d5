#!/usr/bin/env bash
# Emergency benchmark (issue 18), on SQLite, at subdistrict scale: 洲心街道's 22
# communities (240,000 residents). The subdistrict administrator activates one incident
# over every community: a welfare check for every household (target: under 10 s). Then,
# while checks of 连江社区 are recorded at 200 a second, 16 clients ask for its command
# page for 20 s (target: p99 under 200 ms); and a grid worker's field page is weighed
# (target: under 100 KB).
# Usage: bench/emergency.sh      (needs wrk, curl and sqlite3)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
BIN=${CARGO_TARGET_DIR:-target}/release/linli
DATA=$(mktemp -d)
PORT=${PORT:-18088}
P=http://127.0.0.1:$PORT
SERVER=
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT
CODE=441802005001 # 连江社区

$BIN demo --no-serve --scale subdistrict --data-dir "$DATA" >/dev/null 2>&1
echo "households: $(sqlite3 "$DATA/linli.db" 'SELECT COUNT(*) FROM households WHERE archived_at IS NULL')"
$BIN emergency activate --data-dir "$DATA"
CID=$(sqlite3 "$DATA/linli.db" "SELECT id FROM communities WHERE code = '$CODE'")
INCIDENT=$(sqlite3 "$DATA/linli.db" "SELECT MAX(id) FROM incidents WHERE community_id = $CID")
# A grid worker for 连江社区's largest grid, to weigh the field page.
read -r GRID HOUSEHOLDS < <(sqlite3 -separator ' ' "$DATA/linli.db" \
  "SELECT g.name, COUNT(*) FROM households h JOIN grids g ON g.community_id = h.community_id AND g.id = h.grid_id
   WHERE h.community_id = $CID GROUP BY g.id, g.name ORDER BY COUNT(*) DESC LIMIT 1")
LINLI_PASSWORD=demo1234 $BIN user create bench_grid --name 基准网格员 --role grid_worker --community $CODE --grid "$GRID" --data-dir "$DATA" >/dev/null

$BIN serve --data-dir "$DATA" --listen 127.0.0.1:$PORT >/dev/null 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do curl -sf "$P/healthz" >/dev/null && break; sleep 0.1; done
cookie() {
  curl -s -D - -o /dev/null -H 'content-type: application/json' \
    -d "{\"username\":\"$1\",\"password\":\"demo1234\"}" "$P/api/v1/session" | grep -i '^set-cookie' | head -1 | sed 's/^[Ss]et-[Cc]ookie: //; s/;.*//'
}
STAFF=$(cookie street)
GRIDC=$(cookie bench_grid)
PAGE="/c/$CODE/incidents/$INCIDENT"
printf 'command page: HTTP %s\n' "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $STAFF" "$P$PAGE")"
# The first load: the page and what it loads (styles and scripts), as sent (gzip).
FIELD="$P/c/$CODE/incidents/$INCIDENT/field"
RAW=$(curl -s -H "Cookie: $GRIDC" "$FIELD" | wc -c)
SENT=$(curl -s --compressed -o /dev/null -w '%{size_download}' -H "Cookie: $GRIDC" "$FIELD")
ASSETS=0
for a in $(curl -s -H "Cookie: $GRIDC" "$FIELD" | grep -o '/assets/[^"?]*?v=[0-9a-f]*' | sort -u); do
  ASSETS=$((ASSETS + $(curl -s --compressed -o /dev/null -w '%{size_download}' "$P$a")))
done
echo "field page of a grid worker ($HOUSEHOLDS households in the grid): $RAW bytes of HTML, sent as $SENT;" \
  "with its styles and scripts the first load sends $((SENT + ASSETS)) bytes"

$BIN emergency updates --data-dir "$DATA" --rate 200 --seconds 25 &
WRITER=$!
sleep 2
echo
echo "## GET $PAGE, 16 clients, 20 s, while checks are recorded at 200 a second"
wrk -t2 -c16 -d20s --latency -H "Cookie: $STAFF" "$P$PAGE" | grep -E "Latency|50%|90%|99%|Requests/sec|requests in|Non-2xx"
wait $WRITER
