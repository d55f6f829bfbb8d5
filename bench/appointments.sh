#!/usr/bin/env bash
# Booking benchmark (issue 17), on SQLite, on the seed demo: 16 clients at once book
# 20,000 distinct 5-minute slots of one type through the store the pages use (each a
# transaction: the slot checked against the hours and the holiday calendar, its seat
# taken by a guarded update, the appointment written). Target: at least 1,000 a second.
# Usage: bench/appointments.sh [bookings] [clients]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
BIN=${CARGO_TARGET_DIR:-target}/release/linli
DATA=$(mktemp -d)
trap 'rm -rf "$DATA"' EXIT
$BIN demo --no-serve --data-dir "$DATA" >/dev/null 2>&1
$BIN appointments bench --data-dir "$DATA" --bookings "${1:-20000}" --clients "${2:-16}"
