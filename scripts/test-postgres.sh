#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests and the benchmark: a new cluster under
# target/postgres, listening only on 127.0.0.1:$PORT, trusting local connections.
#   scripts/test-postgres.sh start   (re)creates and starts it, installing PostgreSQL if missing
#   scripts/test-postgres.sh stop    stops it
#   scripts/test-postgres.sh url     prints the URL of its maintenance database
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${TIDINGS_TEST_PG_PORT:-54329}
BASE=$PWD/target/postgres
DATA=$BASE/data
URL="postgres://tidings@127.0.0.1:$PORT/postgres"

# PostgreSQL refuses to run as root: as root, the cluster belongs to the package's
# `postgres` user.
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

bin_dir() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

install_postgres() {
  if [ -z "$(bin_dir)" ] || [ ! -x "$(bin_dir)/initdb" ]; then
    echo "[postgres] installing Debian's postgresql"
    SUDO=$([ "$(id -u)" = 0 ] && echo "" || echo sudo)
    $SUDO apt-get update -qq
    # The package would start its own cluster on 5432; ours is separate, so keep it off.
    echo exit 101 | $SUDO tee /usr/sbin/policy-rc.d >/dev/null && $SUDO chmod +x /usr/sbin/policy-rc.d
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
    $SUDO rm -f /usr/sbin/policy-rc.d
  fi
}

stop() {
  if [ -f "$DATA/postmaster.pid" ]; then
    as_owner "$(bin_dir)/pg_ctl" -D "$DATA" -m immediate stop >/dev/null 2>&1 || true
  fi
}

start() {
  install_postgres
  stop
  rm -rf "$BASE"
  mkdir -p "$BASE"
  [ "$(id -u)" = 0 ] && chown postgres: "$BASE"
  as_owner "$(bin_dir)/initdb" -D "$DATA" -U tidings --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  # fsync stays on; commits are not waited for (as SQLite's synchronous=NORMAL does not
  # wait either), which keeps the test suite quick without changing what it checks.
  as_owner "$(bin_dir)/pg_ctl" -D "$DATA" -l "$BASE/server.log" -w -o \
    "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$BASE -c max_connections=400 -c synchronous_commit=off" \
    start >/dev/null
  echo "[postgres] running on 127.0.0.1:$PORT (log: target/postgres/server.log)"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) echo "$URL" ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
