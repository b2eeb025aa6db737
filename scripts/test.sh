#!/usr/bin/env bash
# The test command: installs what is missing, starts Kafka and PostgreSQL, runs the whole suite.
# Extra arguments go to pytest (e.g. scripts/test.sh tests/detection -q).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/bootstrap.sh
scripts/kafka.sh start
scripts/postgres.sh start
exec .venv/bin/python -m pytest "$@"
