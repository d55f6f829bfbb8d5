#!/usr/bin/env bash
# A city on Citus (issue 13), against one PostgreSQL for comparison, with the load
# generator (wrk) on the same 2-core machine:
#   - loading `linli demo --scale city` (50 more subdistricts, 1,000 communities, 5 million
#     residents) and 200,000 historical tickets over 洲心街道;
#   - how the rows spread over the workers (Citus);
#   - durable Open311 submissions per second, acknowledged against written;
#   - a community's and a subdistrict's dashboards;
#   - moving one community's shards to the other worker while its requests go on (Citus).
# Usage: [SCALE=city|subdistrict] bench/citus.sh citus|postgres
#   citus: starts the local cluster with ../shared/citus/setup.sh (coordinator 5440);
#   postgres: the server on 127.0.0.1:5432;
#   SCALE (default city) is what `linli demo --scale` loads before the tickets.
# KEEP=1 keeps the database that is there, LOAD=0 loads nothing more (to measure again).
# Needs wrk, curl, psql, bc; installs wrk with apt if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ENGINE=${1:?usage: bench/citus.sh citus|postgres}
command -v wrk >/dev/null || apt-get install -y -q wrk >/dev/null
cargo build --release -q
BIN=${CARGO_TARGET_DIR:-target}/release/linli
DATA=$(mktemp -d)
PORT=${PORT:-18083}
P=http://127.0.0.1:$PORT
DB=linli_city
SERVER=
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT

if [ "$ENGINE" = citus ]; then
  SETUP=${LINLI_CITUS_SETUP:-../shared/citus/setup.sh}
  [ -f "$SETUP" ] || SETUP=/work/shared/citus/setup.sh
  bash "$SETUP" --db "$DB" >/dev/null
  URL=postgres://postgres@127.0.0.1:5440/$DB
  PORTS="5440 5441 5442"
  # An online shard move copies by logical replication, which needs wal_level = logical
  # (setup.sh leaves PostgreSQL's default, replica): set it and restart the nodes once.
  PGV=$(ls /usr/lib/postgresql | sort -n | tail -1)
  if [ "$(psql -qXAt postgres://postgres@127.0.0.1:5440/postgres -c 'SHOW wal_level')" != logical ]; then
    for p in $PORTS; do
      psql -qX "postgres://postgres@127.0.0.1:$p/postgres" -c "ALTER SYSTEM SET wal_level = logical"
      pg_ctlcluster --skip-systemctl-redirect "$PGV" "citus$p" restart
    done
  fi
else
  URL=postgres://postgres@127.0.0.1:5432/$DB
  PORTS=5432
fi
ADMIN=${URL%/*}/postgres
if [ "${KEEP:-0}" != 1 ]; then
  # A fresh database (on Citus: on every node, then the extension and the nodes).
  for p in $PORTS; do psql -qX "postgres://postgres@127.0.0.1:$p/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"; done
  if [ "$ENGINE" = citus ]; then
    for p in $PORTS; do psql -qX "postgres://postgres@127.0.0.1:$p/$DB" -c "CREATE EXTENSION citus"; done
    psql -qXAt "$URL" -c "SELECT citus_set_coordinator_host('127.0.0.1', 5440)" \
      -c "SELECT citus_add_node('127.0.0.1', 5441)" -c "SELECT citus_add_node('127.0.0.1', 5442)" >/dev/null
  fi
fi
q() { psql -qXAt "$URL" -c "$1"; }
export LINLI_DATABASE_URL=$URL LINLI_DATA_DIR=$DATA

echo "# $ENGINE ($("$BIN" config | awk -F': ' '/database engine/ {print $2}'))"
echo
SCALE=${SCALE:-city}
if [ "${LOAD:-1}" = 1 ]; then
echo "## loading: linli demo --scale $SCALE, then --tickets 200000"
START=$(date +%s.%N)
"$BIN" demo --scale "$SCALE" --no-serve >/dev/null 2>&1
MID=$(date +%s.%N)
"$BIN" demo --tickets 200000 --no-serve >/dev/null 2>&1
END=$(date +%s.%N)
printf '%s loaded in %.0f s, tickets in %.0f s: %s subdistricts, %s communities, %s residents, %s tickets\n\n' \
  "$SCALE" "$(echo "$MID - $START" | bc)" "$(echo "$END - $MID" | bc)" \
  "$(q 'SELECT COUNT(*) FROM subdistricts')" "$(q 'SELECT COUNT(*) FROM communities')" \
  "$(q 'SELECT COUNT(*) FROM residents')" "$(q 'SELECT COUNT(*) FROM tickets')"
fi

if [ "$ENGINE" = citus ]; then
  echo "## how the rows spread over the workers"
  echo
  echo "| worker | shards | residents | households | tickets | size |"
  echo "|---|---|---|---|---|---|"
  q "WITH r AS (SELECT s.nodeport, s.table_name::text AS t, SUM(c.result::bigint) AS n
               FROM run_command_on_shards('residents', 'SELECT count(*) FROM %s') c JOIN citus_shards s USING (shardid) GROUP BY 1, 2
               UNION ALL SELECT s.nodeport, s.table_name::text, SUM(c.result::bigint)
               FROM run_command_on_shards('households', 'SELECT count(*) FROM %s') c JOIN citus_shards s USING (shardid) GROUP BY 1, 2
               UNION ALL SELECT s.nodeport, s.table_name::text, SUM(c.result::bigint)
               FROM run_command_on_shards('tickets', 'SELECT count(*) FROM %s') c JOIN citus_shards s USING (shardid) GROUP BY 1, 2)
     SELECT '| 127.0.0.1:' || z.nodeport || ' | ' || z.shards || ' | ' || MAX(r.n) FILTER (WHERE r.t = 'residents') || ' | '
            || MAX(r.n) FILTER (WHERE r.t = 'households') || ' | ' || MAX(r.n) FILTER (WHERE r.t = 'tickets') || ' | ' || z.size || ' |'
     FROM (SELECT nodeport, COUNT(*) AS shards, pg_size_pretty(SUM(shard_size)) AS size FROM citus_shards WHERE citus_table_type = 'distributed' GROUP BY nodeport) z
     JOIN r ON r.nodeport = z.nodeport GROUP BY z.nodeport, z.shards, z.size ORDER BY z.nodeport"
  echo
fi

CODE=441802005001 # 连江社区, one of 洲心街道's, with its share of the historical tickets
KEY=$("$BIN" api-key create --community $CODE 2>/dev/null)
"$BIN" serve --listen 127.0.0.1:$PORT >/dev/null 2>&1 &
SERVER=$!
for _ in $(seq 1 300); do curl -sf "$P/healthz" >/dev/null && break; sleep 0.2; done
sleep 2
cookie() {
  curl -s -D - -o /dev/null -H 'Content-Type: application/json' \
    -d "{\"username\":\"$1\",\"password\":\"demo1234\"}" "$P/api/v1/session" \
    | awk -F'[ ;]' 'tolower($1)=="set-cookie:" {print $2}'
}
STREET=$(cookie street)
ADMIN_COOKIE=$(cookie admin)
SUB=$(q "SELECT subdistrict_id FROM communities WHERE code = '$CODE'")
CITY_SUB=$(q "SELECT id FROM subdistricts WHERE code = '990000001'")

echo "## dashboards"
echo
echo "| what | runs | median | slowest |"
echo "|---|---|---|---|"
timed() { # label cookie url
  local times
  times=$(for _ in $(seq 1 20); do curl -s -o /dev/null -w '%{time_total}\n' -H "Cookie: $2" "$P$3"; done | sort -n)
  printf '| %s `GET %s` | 20 | %.0f ms | %.0f ms |\n' "$1" "$3" \
    "$(echo "$times" | sed -n 10p | awk '{print $1*1000}')" "$(echo "$times" | tail -1 | awk '{print $1*1000}')"
}
timed "a community's (连江社区)" "$STREET" "/c/$CODE/tickets/stats"
timed "a subdistrict's (洲心街道, 22 communities)" "$STREET" "/subdistricts/$SUB/tickets/stats"
if [ -n "$CITY_SUB" ]; then
  timed "a city subdistrict's (20 communities)" "$ADMIN_COOKIE" "/subdistricts/$CITY_SUB/tickets/stats"
  timed "its registry search" "$ADMIN_COOKIE" "/api/v1/subdistricts/$CITY_SUB/residents?q=%E5%BC%A0&per_page=20"
fi

LUA=$DATA/submit.lua
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
submit() { # connections seconds -> prints a table row, fails on any refused request
  local before after out acked
  before=$(q "SELECT COUNT(*) FROM tickets WHERE channel = 'open311'")
  out=$(CODE=$CODE KEY=$KEY wrk -t2 -c"$1" -d"$2"s --latency -s "$LUA" "$P/open311/v2/requests.json")
  if echo "$out" | grep -q "Non-2xx\|Socket errors"; then echo "$out"; echo "some submissions failed"; exit 1; fi
  sleep 1
  after=$(q "SELECT COUNT(*) FROM tickets WHERE channel = 'open311'")
  acked=$(echo "$out" | awk '/requests in/ {print $1}')
  echo "| $1 | $(echo "$out" | awk '/Requests\/sec/ {print $2}') | $(echo "$out" | awk '$1=="50%" {print $2}') | $(echo "$out" | awk '$1=="99%" {print $2}') | $acked | $((after - before)) |"
}
echo
echo "## durable submissions, POST /open311/v2/requests.json"
echo
echo "| connections | requests/s | p50 | p99 | acknowledged | in the database |"
echo "|---|---|---|---|---|---|"
submit 64 10
submit 256 10

if [ "$ENGINE" = citus ]; then
  echo
  echo "## moving 连江社区's shards to the other worker while it takes submissions"
  echo
  CID=$(q "SELECT id FROM communities WHERE code = '$CODE'")
  read -r SHARD FROM <<<"$(q "SELECT shardid, nodeport FROM citus_shards WHERE shardid = get_shard_id_for_distribution_column('tickets', $CID)" | tr '|' ' ')"
  TO=$([ "$FROM" = 5441 ] && echo 5442 || echo 5441)
  echo "| connections | requests/s | p50 | p99 | acknowledged | in the database |"
  echo "|---|---|---|---|---|---|"
  (sleep 3; S=$(date +%s.%N)
   q "SELECT citus_move_shard_placement($SHARD, '127.0.0.1', $FROM, '127.0.0.1', $TO, shard_transfer_mode => 'force_logical')" >/dev/null
   printf '\nshard group %s moved from :%s to :%s in %.1f s (online, by logical replication), during the run\n' "$SHARD" "$FROM" "$TO" "$(echo "$(date +%s.%N) - $S" | bc)" >"$DATA/moved") &
  MOVER=$!
  submit 64 30
  wait $MOVER
  cat "$DATA/moved"
  echo "now on :$(q "SELECT nodeport FROM citus_shards WHERE shardid = $SHARD")"
fi
