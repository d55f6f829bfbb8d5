#!/usr/bin/env bash
# Money benchmark (issue 16), on SQLite, on the demo:
#   - the public disclosure page of 海盛社区 with 100,000 gifts and 10,000 paid expenses more
#     (target: under 100 ms), and the fund's own public page;
#   - with `verify` as argument: `linli ledger verify` over 10 million movements of points
#     and money together, chain included (target: under 10 s).
# Usage: bench/money.sh [verify]     (needs curl)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
BIN=${CARGO_TARGET_DIR:-target}/release/linli
DATA=$(mktemp -d)
PORT=${PORT:-18085}
P=http://127.0.0.1:$PORT
SERVER=
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT
CODE=440804003001 # 海盛社区

$BIN demo --no-serve --data-dir "$DATA" >/dev/null 2>&1
$BIN ledger bench --data-dir "$DATA" --community $CODE --donations 100000 --expenses 10000
FUND=$(sqlite3 "$DATA/linli.db" "SELECT MAX(id) FROM funds WHERE name LIKE '压力测试%'")

if [ "${1:-}" = verify ]; then
  # Points movements to make 10 million with the money's.
  $BIN ledger bench --data-dir "$DATA" --community $CODE --movements 9890000
  echo
  echo "## linli ledger verify, every movement of points and money, chain included"
  echo
  start=$(date +%s.%N)
  $BIN ledger verify --data-dir "$DATA"
  echo "linli ledger verify took $(echo "$(date +%s.%N) - $start" | bc | xargs printf '%.1f') s (wall)"
  exit 0
fi

$BIN serve --data-dir "$DATA" --listen 127.0.0.1:$PORT >/dev/null 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do curl -sf "$P/healthz" >/dev/null && break; sleep 0.1; done
sleep 1
echo "## the public pages, with 100,000 gifts and 10,000 paid expenses in one fund"
echo
echo "| page | runs | median | slowest |"
echo "|---|---|---|---|"
for page in "/p/$CODE/money" "/p/$CODE/money?q=五金店" "/p/$CODE/money/funds/$FUND"; do
  curl -sf -o /dev/null "$P$page"
  times=$(for _ in $(seq 1 20); do curl -s -o /dev/null -w '%{time_total}\n' "$P$page"; done | sort -n)
  printf '| `%s` | 20 | %.0f ms | %.0f ms |\n' "$page" \
    "$(echo "$times" | sed -n 10p | awk '{print $1*1000}')" "$(echo "$times" | tail -1 | awk '{print $1*1000}')"
done
echo
printf 'server memory after the load: %s MB\n' "$(awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/$SERVER/status)"
