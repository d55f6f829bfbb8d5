#!/usr/bin/env bash
# Notices benchmark (issue 19), on SQLite, at subdistrict scale: 10,000 residents of 连江社区
# get accounts, staff publish a safety notice to the whole community asking each reader to
# acknowledge it, and all of them acknowledge it at once, 32 at a time, each its own
# transaction (target: 2,000 a second or more).
# Usage: bench/notices.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
BIN=${CARGO_TARGET_DIR:-target}/release/linli
DATA=$(mktemp -d)
trap 'rm -rf "$DATA"' EXIT
$BIN demo --no-serve --scale subdistrict --data-dir "$DATA" >/dev/null 2>&1
$BIN notices acks --community 441802005001 --readers 10000 --at-once 32 --data-dir "$DATA"
