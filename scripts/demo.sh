#!/usr/bin/env bash
# Bring up the local stack (Kafka, PostgreSQL, a worker) and run the demo.  `scripts/demo.sh stop`
# stops the demo worker, Kafka and PostgreSQL.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
pidfile=.cache/demo/worker.pid

stop_worker() {
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    kill "$(cat "$pidfile")"
    while kill -0 "$(cat "$pidfile")" 2>/dev/null; do sleep 0.5; done
  fi
  rm -f "$pidfile"
}

if [ "${1:-}" = stop ]; then
  stop_worker
  scripts/kafka.sh stop
  scripts/postgres.sh stop
  exit 0
fi

scripts/bootstrap.sh
began=$EPOCHREALTIME
scripts/kafka.sh start
scripts/postgres.sh start
awk -v a="$began" -v b="$EPOCHREALTIME" 'BEGIN { printf "stack up in %.1f s\n", b - a }'
stop_worker
exec .venv/bin/python scripts/demo.py
