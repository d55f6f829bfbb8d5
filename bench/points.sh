#!/usr/bin/env bash
# Points benchmark (issue 4):
#   - ledger postings through the group commit (target: 10,000 per second on SQLite;
#     the figure on PostgreSQL too);
#   - redemptions racing for little stock (throughput, and exactly no oversell);
#   - `linli ledger verify` over 10 million movements (target: under 10 s).
# Usage: bench/points.sh        (PostgreSQL part when PG_URL, default
#                                postgres://postgres@127.0.0.1:5432, answers)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
BIN=${CARGO_TARGET_DIR:-target}/release/linli
DATA=$(mktemp -d)
trap 'rm -rf "$DATA"' EXIT
CODE=440804003001 # 海盛社区
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}

run() { "$BIN" "$@" 2>/dev/null; }

echo "## SQLite"
run demo --no-serve --data-dir "$DATA/sqlite" >/dev/null
run ledger bench --community $CODE --postings 200000 --concurrency 512 --data-dir "$DATA/sqlite"
run ledger bench --community $CODE --redeemers 2000 --stock 100 --data-dir "$DATA/sqlite"
run ledger bench --community $CODE --movements 10000000 --data-dir "$DATA/sqlite"
START=$(date +%s.%N)
run ledger verify --data-dir "$DATA/sqlite"
printf 'linli ledger verify took %.1f s (wall)\n' "$(echo "$(date +%s.%N) - $START" | bc)"

if psql "$PG_URL/postgres" -qc 'SELECT 1' >/dev/null 2>&1; then
  echo
  echo "## PostgreSQL"
  psql "$PG_URL/postgres" -qc 'DROP DATABASE IF EXISTS linli_bench_points' -c 'CREATE DATABASE linli_bench_points' >/dev/null 2>&1
  URL="$PG_URL/linli_bench_points"
  run demo --no-serve --data-dir "$DATA/pg" --database-url "$URL" >/dev/null
  run ledger bench --community $CODE --postings 200000 --concurrency 512 --data-dir "$DATA/pg" --database-url "$URL"
  run ledger bench --community $CODE --redeemers 2000 --stock 100 --data-dir "$DATA/pg" --database-url "$URL"
  run ledger bench --community $CODE --movements 2000000 --data-dir "$DATA/pg" --database-url "$URL"
  START=$(date +%s.%N)
  run ledger verify --data-dir "$DATA/pg" --database-url "$URL"
  printf 'linli ledger verify took %.1f s (wall)\n' "$(echo "$(date +%s.%N) - $START" | bc)"
  psql "$PG_URL/postgres" -qc 'DROP DATABASE IF EXISTS linli_bench_points' >/dev/null 2>&1
fi
