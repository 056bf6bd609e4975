#!/usr/bin/env bash
# Two permitd instances behind HAProxy on a private PostgreSQL, a private Redis and the S3 test
# server, and the promises of issue 16 checked against them (tests/scale/scale.py).
#
#   run.sh PERMITD [--size short|full] [--only PHASES] [--ttl SECS] [--results FILE]
#
#   PHASES: comma-separated among cross, moves, surge, faults, issues, lists, rotation (the
#   phases a phase needs run first); `--only lists,rotation` runs the signed-list checks.
#   `make test-scale` runs the short form, `make scale` the full one (which rewrites
#   tests/scale/results.md).
#
# Needs haproxy, redis-server, PostgreSQL 15's initdb/pg_ctl and psql (the Makefile's
# APT_PACKAGES), the S3 test server (`make s3-server`, or PERMIT_SCALE_S3_URL), and the
# staff_session example beside PERMITD (`make permitd-debug`). The machine's PostgreSQL and
# Redis are never touched: the script starts and stops its own on free ports.
set -euo pipefail
BIN=${1:?usage: run.sh PERMITD [options]}
shift
HERE=$(cd "$(dirname "$0")" && pwd)
for tool in haproxy redis-server redis-cli psql /usr/lib/postgresql/15/bin/initdb; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is missing (make deps)"; exit 2; }
done
[ -x "$(dirname "$BIN")/examples/staff_session" ] || { echo "run.sh: build with make permitd-debug"; exit 2; }
# Hundreds of client and server sockets are open at once.
ulimit -n 65536 2>/dev/null || true
exec python3 "$HERE/scale.py" "$BIN" "$@"
