#!/usr/bin/env bash
# scripts/pg_test_cluster.sh start|stop|restart|env|url DIR
#
# A throwaway PostgreSQL cluster for tests, from Debian's postgresql packages:
#   start    initdb into DIR (created if missing), pick a free local port, listen on
#            127.0.0.1 only plus a unix socket inside DIR, trust auth (local test use
#            only), and start it with pg_ctl with a bounded wait. Idempotent: a cluster
#            already running in DIR is left running.
#   stop     stops the cluster (fast, then immediate) and removes DIR. Always succeeds.
#   restart  pg_ctl restart (fast mode), bounded; the port stays the same.
#   env      prints `export KSDB_TEST_PG_URL=...` and friends for `eval`.
#   url      prints the connection URL (postgresql://ksdb@127.0.0.1:PORT/ksdb).
#
# PostgreSQL refuses to run as root, so as root every server command runs as the
# `postgres` system user (runuser) and DIR is handed to that user.
# The cluster never uses Debian's default cluster ("main") or its port.
set -euo pipefail

readonly PG_BIN="${KSDB_PG_BIN:-/usr/lib/postgresql/15/bin}"
readonly WAIT_SECONDS="${KSDB_PG_WAIT_SECONDS:-30}"
readonly DB_USER="ksdb"
readonly DB_NAME="ksdb"

usage() {
  echo "usage: $0 start|stop|restart|env|url DIR" >&2
  exit 2
}

[[ $# -eq 2 ]] || usage
cmd="$1"
dir="$2"
[[ -n "$dir" && "$dir" != "/" ]] || usage
data="$dir/data"
sock="$dir/sock"
log="$dir/server.log"
port_file="$dir/port"

# Runs a command as the cluster's owner.
as_owner() {
  if [[ "$(id -u)" -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# A random port in 20000-59999 that nothing on 127.0.0.1 accepts connections
# on now. Another process may still take it before the server binds it;
# start() then picks another one.
free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  echo "pg_test_cluster: no free port found" >&2
  return 1
}

# Points the cluster at a new free port (the last setting in the file wins).
choose_port() {
  free_port >"$port_file"
  echo "port = $(cat "$port_file")" | as_owner tee -a "$data/postgresql.conf" >/dev/null
}

is_running() {
  [[ -f "$data/postmaster.pid" ]] && as_owner "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1
}

init_cluster() {
  mkdir -p "$dir"
  if [[ "$(id -u)" -eq 0 ]]; then
    chown postgres: "$dir"
  fi
  chmod 700 "$dir"
  as_owner mkdir -p "$sock"
  # Trust auth on 127.0.0.1 and the socket only: this cluster is for local tests.
  as_owner "$PG_BIN/initdb" -D "$data" -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=trust >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    return 1
  }
  as_owner tee -a "$data/postgresql.conf" >/dev/null <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$sock'
max_connections = 200
shared_buffers = 32MB
logging_collector = off
EOF
  choose_port
}

create_role_and_db() {
  local port
  port="$(cat "$port_file")"
  as_owner "$PG_BIN/psql" -h "$sock" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q \
    -c "CREATE ROLE $DB_USER LOGIN CREATEDB" -c "CREATE DATABASE $DB_NAME OWNER $DB_USER" \
    >/dev/null
}

start() {
  if is_running; then
    return 0
  fi
  local fresh=0
  if [[ ! -f "$data/PG_VERSION" ]]; then
    init_cluster
    fresh=1
  fi
  local attempt
  for attempt in 1 2 3; do
    if as_owner "$PG_BIN/pg_ctl" -D "$data" -l "$log" -w -t "$WAIT_SECONDS" start >/dev/null; then
      break
    fi
    if [[ $attempt -lt 3 ]] && grep -q "could not bind" "$log"; then
      choose_port
      continue
    fi
    echo "pg_test_cluster: server did not start; log:" >&2
    tail -n 30 "$log" >&2 || true
    return 1
  done
  if [[ $fresh -eq 1 ]]; then
    create_role_and_db
  fi
}

stop() {
  if [[ -f "$data/postmaster.pid" ]]; then
    as_owner "$PG_BIN/pg_ctl" -D "$data" -m fast -w -t "$WAIT_SECONDS" stop >/dev/null 2>&1 ||
      as_owner "$PG_BIN/pg_ctl" -D "$data" -m immediate -w -t "$WAIT_SECONDS" stop >/dev/null 2>&1 ||
      true
  fi
  rm -rf "$dir"
}

restart() {
  as_owner "$PG_BIN/pg_ctl" -D "$data" -l "$log" -m fast -w -t "$WAIT_SECONDS" restart >/dev/null
}

url() {
  echo "postgresql://$DB_USER@127.0.0.1:$(cat "$port_file")/$DB_NAME"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  restart) restart ;;
  url) url ;;
  env)
    echo "export KSDB_TEST_PG_URL='$(url)'"
    echo "export KSDB_TEST_PG_RESTART='$(cd "$(dirname "$0")" && pwd)/$(basename "$0") restart $dir'"
    ;;
  *) usage ;;
esac
