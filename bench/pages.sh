#!/usr/bin/env bash
# Page speed (issue 14), on SQLite with the seed demo, in headless Chromium with its
# default settings and the load generator on the same machine:
#   - a scripted walk of 150 page loads through the roles, phones at 360 px and desktops
#     at 1366 px (target: median load under 150 ms, none over 1 s);
#   - the first load of a resident's home with nothing cached (target: under 150 KB
#     transferred).
# Usage: bench/pages.sh     (needs Debian's chromium and node; fetches playwright-core into
#                            a temporary directory to drive the browser)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
BIN=${CARGO_TARGET_DIR:-target}/release/linli
DATA=$(mktemp -d)
NODE_DIR=$(mktemp -d)
PORT=${PORT:-18084}
SERVER=
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DATA" "$NODE_DIR"' EXIT
(cd "$NODE_DIR" && npm install --silent --no-audit --no-fund playwright-core@1 >/dev/null)
$BIN demo --data-dir "$DATA" --listen 127.0.0.1:$PORT >/dev/null 2>&1 &
SERVER=$!
for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
NODE_PATH="$NODE_DIR/node_modules" node bench/pages.cjs "http://127.0.0.1:$PORT"
