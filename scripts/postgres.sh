#!/usr/bin/env bash
# Start a local PostgreSQL (Debian's packages, installed if missing) on 127.0.0.1 with the airspin
# role and database that DATABASE_URL's default names.  A second run reuses a running server.
# Usage: scripts/postgres.sh [start|stop|status]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# Where the cluster lives.  As root the server runs as the postgres user, who may not be able to
# enter the checkout (a private temporary folder, say): its files go to that user's own home.
pg_dir() {
  if [ -n "${AIRSPIN_PG_DIR:-}" ]; then echo "$AIRSPIN_PG_DIR"
  elif [ "$(id -u)" = 0 ]; then echo "$(getent passwd postgres | cut -d: -f6)/airspin"
  else echo "${AIRSPIN_CACHE:-$root/.cache}/postgres"; fi
}
port="${PGPORT:-5432}"
db_user=airspin db_name=airspin db_password=airspin

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$dir" ] && [ -x "$dir/pg_ctl" ] && echo "$dir"
}

install_server() {
  pg_bin >/dev/null && return
  echo "postgres: installing Debian's postgresql packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql postgresql-contrib >/dev/null
  # Debian's package starts its own cluster; ours lives in the project's cache instead.
  service postgresql stop >/dev/null 2>&1 || true
}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

start() {
  if port_open; then echo "postgres: already running on 127.0.0.1:$port"; return; fi
  install_server
  local bin cache; bin=$(pg_bin); cache=$(pg_dir)
  mkdir -p "$cache"
  [ "$(id -u)" = 0 ] && chown postgres: "$cache"
  if [ ! -f "$cache/data/PG_VERSION" ]; then
    as_postgres "$bin/initdb" -D "$cache/data" -U postgres --auth=trust -E UTF8 >/dev/null
  fi
  as_postgres "$bin/pg_ctl" -D "$cache/data" -l "$cache/server.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $cache -c fsync=off -c max_connections=200" >/dev/null
  as_postgres "$bin/psql" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 <<SQL
SELECT 'CREATE ROLE $db_user LOGIN PASSWORD ''$db_password'''
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$db_user') \gexec
-- The tests give every run a database of its own.
ALTER ROLE $db_user CREATEDB;
SELECT 'CREATE DATABASE $db_name OWNER $db_user'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$db_name') \gexec
\c $db_name
CREATE EXTENSION IF NOT EXISTS btree_gist;
SQL
  echo "postgres: started on 127.0.0.1:$port"
}

stop() {
  local bin cache; bin=$(pg_bin) || { echo "postgres: not installed"; return; }
  cache=$(pg_dir)
  [ -f "$cache/data/postmaster.pid" ] && as_postgres "$bin/pg_ctl" -D "$cache/data" -w stop -m fast >/dev/null
  echo "postgres: stopped"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) if port_open; then echo "postgres: running"; else echo "postgres: stopped"; exit 1; fi ;;
  *) echo "usage: $0 [start|stop|status]" >&2; exit 2 ;;
esac
