#!/usr/bin/env bash
# Booking surge: CLIENTS residents (default 1000), each with its own account and submitted
# application, race for PLACES places (default 300) of one morning at 清波派出所受理点, against
# a release permitd on SQLite (in-process session store) and on PostgreSQL (Redis session
# store). Then the baseline of the same run: pgbench's single-row conditional UPDATE.
#
#   bash tests/load/booking_surge.sh            # or: make load
#
# Settings (environment): CLIENTS, PLACES, BACKENDS ("sqlite postgres"), CARGO_TARGET_DIR,
# PERMIT_LOAD_POSTGRES_URL (admin URL, default postgres://postgres@127.0.0.1:5432/postgres),
# PERMIT_LOAD_REDIS_URL (default redis://127.0.0.1:6379), PGBENCH_CLIENTS (50), PGBENCH_JOBS (2),
# PGBENCH_SECS (10), CALENDAR_SECS (5, the calendar-read phase), CALENDAR_CONCURRENCY (64), SKIP_BUILD=1 (reuse the built binaries), RESULTS (tests/load/results.md).
#
# It is a measurement, not a timed test: it fails (exit 1) only when the booking rules break
# (booked ≠ places, overbooking) or permitd answers 5xx / drops a connection. Every run
# rewrites tests/load/results.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
CLIENTS=${CLIENTS:-1000}
PLACES=${PLACES:-300}
BACKENDS=${BACKENDS:-sqlite postgres}
PG_ADMIN_URL=${PERMIT_LOAD_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PG_BASE=${PG_ADMIN_URL%/*}
REDIS=${PERMIT_LOAD_REDIS_URL:-redis://127.0.0.1:6379}
PGBENCH=${PGBENCH:-pgbench}
PGBENCH_CLIENTS=${PGBENCH_CLIENTS:-50}
PGBENCH_JOBS=${PGBENCH_JOBS:-2}
PGBENCH_SECS=${PGBENCH_SECS:-10}
RESULTS=${RESULTS:-$ROOT/tests/load/results.md}
CALENDAR_SECS=${CALENDAR_SECS:-5}
CALENDAR_CONCURRENCY=${CALENDAR_CONCURRENCY:-64}

# 1000 client sockets plus 1000 server sockets are open at once.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
echo "open-file limit: $(ulimit -n)"

if [ "${SKIP_BUILD:-0}" != 1 ]; then
    cargo build --release -p permit-api --bin permitd --example booking_surge
fi
BIN=$TARGET/release/permitd
SURGE=$TARGET/release/examples/booking_surge
[ -x "$BIN" ] && [ -x "$SURGE" ] || { echo "missing $BIN or $SURGE (build first)"; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/permit-load.XXXXXX")
echo "work directory (logs, outputs): $WORK"
PIDS=(); DBS=(); PREFIXES=()
rand() { od -An -N4 -tx4 /dev/urandom | tr -d ' \n'; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
psql_admin() { psql "$PG_ADMIN_URL" -v ON_ERROR_STOP=1 -qAtc "$1"; }
drop_db() { psql_admin "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" >/dev/null 2>&1 || true; }
drop_redis() { redis-cli -u "$REDIS" --scan --pattern "$1*" 2>/dev/null | xargs -r redis-cli -u "$REDIS" del >/dev/null 2>&1 || true; }
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for d in "${DBS[@]}"; do drop_db "$d"; done
    for x in "${PREFIXES[@]}"; do drop_redis "$x"; done
}
trap cleanup EXIT

stop_permitd() {
    local pid=$1
    kill -INT "$pid" 2>/dev/null || true   # permitd shuts down gracefully on Ctrl-C
    for _ in $(seq 1 75); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------- pgbench baseline
# One row, the same statement permitd's booking runs to take a place. Capacity is INT_MAX, so
# every UPDATE matches and writes: this is the contended success path, an upper bound for any
# booking (permitd's booking transaction contains this UPDATE). A second run with the row full
# (capacity = booked) measures the refusal path, which writes nothing, for context.
baseline() {
    local db="permit_load_pgbench_$(rand)"
    DBS+=("$db")
    psql_admin "CREATE DATABASE \"$db\""
    psql "$PG_BASE/$db" -v ON_ERROR_STOP=1 -qc \
        "CREATE TABLE slot (id int PRIMARY KEY, capacity int NOT NULL, booked int NOT NULL);
         INSERT INTO slot VALUES (1, 2147483647, 0);"
    echo 'UPDATE slot SET booked = booked + 1 WHERE id = 1 AND booked < capacity;' >"$WORK/book.sql"
    echo "== pgbench: conditional UPDATE, always matching (-c $PGBENCH_CLIENTS -j $PGBENCH_JOBS -T $PGBENCH_SECS)"
    "$PGBENCH" -n -c "$PGBENCH_CLIENTS" -j "$PGBENCH_JOBS" -T "$PGBENCH_SECS" -f "$WORK/book.sql" "$PG_BASE/$db" \
        >"$WORK/pgbench-match.txt" 2>&1 || { cat "$WORK/pgbench-match.txt"; return 1; }
    cat "$WORK/pgbench-match.txt"
    PGB_TPS=$(sed -nE 's/^tps = ([0-9.]+).*/\1/p' "$WORK/pgbench-match.txt" | head -1)
    PGB_TX=$(sed -nE 's/^number of transactions actually processed: ([0-9]+).*/\1/p' "$WORK/pgbench-match.txt")
    PGB_BOOKED=$(psql "$PG_BASE/$db" -qAtc "SELECT booked FROM slot WHERE id = 1")
    echo "booked after the run: $PGB_BOOKED (transactions: $PGB_TX)"
    psql "$PG_BASE/$db" -qc "UPDATE slot SET capacity = booked WHERE id = 1"
    echo "== pgbench: the same UPDATE on a full row (matches nothing)"
    "$PGBENCH" -n -c "$PGBENCH_CLIENTS" -j "$PGBENCH_JOBS" -T "$PGBENCH_SECS" -f "$WORK/book.sql" "$PG_BASE/$db" \
        >"$WORK/pgbench-full.txt" 2>&1 || { cat "$WORK/pgbench-full.txt"; return 1; }
    PGB_FULL_TPS=$(sed -nE 's/^tps = ([0-9.]+).*/\1/p' "$WORK/pgbench-full.txt" | head -1)
    echo "tps (full row): $PGB_FULL_TPS"
    drop_db "$db"
}

# ---------------------------------------------------------------- one backend
FAILED=0
declare -A SUMMARY ERRLINES
run_backend() {
    local backend=$1 port data log out pid db="" prefix="" url rc
    port=$(free_port)
    data="$WORK/data-$backend"; mkdir -p "$data"
    log="$WORK/permitd-$backend.log"; out="$WORK/surge-$backend.txt"
    local envs=(NO_COLOR=1 PERMIT_DEMO=true PERMIT_LISTEN="127.0.0.1:$port" PERMIT_DATA_DIR="$data"
                PERMIT_JOBS_INTERVAL_SECS=0 PERMIT_LOG_FORMAT=text)
    if [ "$backend" = sqlite ]; then
        url="sqlite://$data/permit.sqlite"        # permitd's embedded default in $data
    else
        db="permit_load_$(rand)"; prefix="permit-load-$(rand):"
        DBS+=("$db"); PREFIXES+=("$prefix")
        psql_admin "CREATE DATABASE \"$db\""
        url="$PG_BASE/$db"
        envs+=(DATABASE_URL="$url" REDIS_URL="$REDIS" PERMIT_REDIS_PREFIX="$prefix")
    fi
    echo "== $backend: permitd on 127.0.0.1:$port (log $log)"
    env -u DATABASE_URL -u REDIS_URL -u RUST_LOG "${envs[@]}" "$BIN" >"$log" 2>&1 &
    pid=$!; PIDS+=("$pid")
    local ready=0
    for _ in $(seq 1 300); do
        if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then ready=1; break; fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    if [ "$ready" != 1 ]; then
        echo "permitd ($backend) did not become ready:"; tail -n 30 "$log"
        FAILED=1; stop_permitd "$pid"; return
    fi
    set +e
    "$SURGE" --base-url "http://127.0.0.1:$port" --database-url "$url" --keys-dir "$data/keys" \
        --clients "$CLIENTS" --places "$PLACES" --label "$backend" \
        --calendar-secs "$CALENDAR_SECS" --calendar-concurrency "$CALENDAR_CONCURRENCY" | tee "$out"
    rc=${PIPESTATUS[0]}
    set -e
    stop_permitd "$pid"
    [ "$rc" = 0 ] || FAILED=1
    SUMMARY[$backend]=$(sed -n 's/^SUMMARY_JSON //p' "$out" | tail -1)
    [ -n "${SUMMARY[$backend]}" ] || SUMMARY[$backend]='{}'
    # What permitd itself logged as wrong during the run.
    local n_err n_warn
    n_err=$(grep -c ' ERROR ' "$log" || true); n_warn=$(grep -c ' WARN ' "$log" || true)
    ERRLINES[$backend]="$n_err ERROR, $n_warn WARN log lines"
    echo "permitd ($backend) log: ${ERRLINES[$backend]}"
    if [ "$n_err" != 0 ] || [ "$n_warn" != 0 ]; then
        grep -E ' (ERROR|WARN) ' "$log" | sed -E 's/^[^ ]+ +//' | sort | uniq -c | sort -rn | head -n 15
    fi
    if [ -n "$db" ]; then drop_db "$db"; drop_redis "$prefix"; fi
}

PGB_TPS=""; PGB_FULL_TPS=""; PGB_TX=""; PGB_BOOKED=""
if ! baseline; then echo "pgbench baseline failed"; FAILED=1; fi
for b in $BACKENDS; do run_backend "$b"; done

# ---------------------------------------------------------------- report
field() {
    local s=${SUMMARY[$1]:-}
    [ -n "$s" ] || s='{}'
    jq -r "if .$2 == null then \"-\" else .$2 end" <<<"$s"
}
ratio() {
    local t; t=$(field "$1" throughput_rps)
    if [ -n "$PGB_TPS" ] && [ "$t" != "-" ]; then
        python3 -c "print(f'{$t/$PGB_TPS:.4f}')"
    else echo "-"; fi
}
CPU=$(sed -nE 's/^model name\s*:\s*//p' /proc/cpuinfo | head -1)
MEM=$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)
PGVER=$(psql_admin "SHOW server_version" 2>/dev/null || echo "?")
{
    echo "# Booking surge results"
    echo
    echo "Generated by \`tests/load/booking_surge.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
    echo "Machine: $(nproc) cores ($CPU), $MEM RAM, $(uname -sr); PostgreSQL $PGVER on the same machine."
    echo "permitd (release), the load client, PostgreSQL and Redis all share those cores."
    echo
    echo "$CLIENTS clients, each with its own account, submitted application, login session and"
    echo "connection, send \`PUT /api/v1/applications/{id}/appointment\` at the same instant for $PLACES"
    echo "places of one morning at 清波派出所受理点 (every other session in the window has 0 places)."
    echo "Latency is per request, from the barrier's release to the whole response read;"
    echo "throughput is requests ÷ wall time of the burst."
    echo
    echo "| backend | clients | places | wall (s) | throughput (req/s) | p50 (ms) | p99 (ms) | booked (2xx) | refused full (409) | other 4xx | 5xx | overbooked | ÷ pgbench tps | pass |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    for b in $BACKENDS; do
        echo "| $b | $(field "$b" clients) | $(field "$b" places) | $(field "$b" wall_s) | $(field "$b" throughput_rps) | $(field "$b" p50_ms) | $(field "$b" p99_ms) | $(field "$b" booked_2xx) | $(field "$b" slot_full_409) | $(field "$b" other_4xx) | $(field "$b" status_5xx) | $(field "$b" overbooked) | $(ratio "$b") | $(field "$b" pass) |"
    done
    echo
    echo "Database after each run (slot \`booked\` column / booked appointments that day):"
    for b in $BACKENDS; do
        echo "- $b: $(field "$b" db_slot_booked) / $(field "$b" db_appointments_booked); transport errors $(field "$b" transport_errors); permitd log: ${ERRLINES[$b]:-n/a}"
    done
    echo
    echo "Baseline, same run: \`pgbench -n -c $PGBENCH_CLIENTS -j $PGBENCH_JOBS -T $PGBENCH_SECS\` with the script"
    echo "\`UPDATE slot SET booked = booked + 1 WHERE id = 1 AND booked < capacity;\` on a one-row table"
    echo "\`slot(id int primary key, capacity int, booked int)\`, capacity = 2147483647 so every UPDATE"
    echo "matches and writes (the contended path of taking a place): **${PGB_TPS:-?} tps** ($PGB_TX transactions)."
    echo "The same UPDATE on a full row (matches nothing, writes nothing): ${PGB_FULL_TPS:-?} tps."
    echo "The ratio column is permitd's throughput ÷ the first figure."
    echo
    echo "## The calendar read"
    echo
    echo "Before the burst, the same clients read their booking calendar (\`GET /api/v1/applications/{id}/calendar\`,"
    echo "one hot service point) back to back for ${CALENDAR_SECS}s, ${CALENDAR_CONCURRENCY} in flight; then \`GET /healthz\`"
    echo "the same way, the floor of this server, client and machine in the same run."
    echo
    echo "| backend | calendar (req/s) | p50 (ms) | p99 (ms) | failed | /healthz (req/s) | calendar ÷ /healthz |"
    echo "|---|---|---|---|---|---|---|"
    for b in $BACKENDS; do
        c=$(field "$b" calendar_rps); h=$(field "$b" healthz_rps)
        r="-"; if [ "$c" != "-" ] && [ "$h" != "-" ]; then r=$(python3 -c "print(f'{$c/$h:.2f}')"); fi
        echo "| $b | $c | $(field "$b" calendar_p50_ms) | $(field "$b" calendar_p99_ms) | $(field "$b" calendar_failures) | $h | $r |"
    done
} >"$RESULTS"
echo
cat "$RESULTS"
echo
echo "results written to $RESULTS; logs in $WORK"
exit "$FAILED"
