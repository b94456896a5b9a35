#!/usr/bin/env bash
# Starts a built Tidings on a loopback port with a throwaway database and runs
# scripts/bench-page.cjs against it: the public page's weight on the wire and its SSR
# latency at 50 concurrent clients. `make bench-page` runs it after `make release`.
#
#   scripts/bench-page.sh [--binary PATH] [--site DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

binary=target/release/tidings
site=target/site
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary=$2; shift 2 ;;
    --site) site=$2; shift 2 ;;
    *) echo "bench-page: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -x "$binary" ] || { echo "bench-page: no binary at $binary (make release first)" >&2; exit 1; }

port=${BENCH_PAGE_PORT:-3470}
work=$(mktemp -d)
TIDINGS_LISTEN=127.0.0.1:$port DATABASE_URL=sqlite:$work/bench.db LEPTOS_SITE_ROOT=$site \
  TIDINGS_ADMIN_USERNAME=bench TIDINGS_ADMIN_PASSWORD='bench password 1234' RUST_LOG=warn \
  "$binary" > "$work/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/readyz" > /dev/null && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$port/readyz" > /dev/null || { cat "$work/server.log" >&2; exit 1; }
node scripts/bench-page.cjs "http://127.0.0.1:$port"
