#!/usr/bin/env bash
# Smoke test of the real binary, the way an operator meets it: start permitd in demo mode on
# the embedded default, browse the directory, bootstrap a staff account from the command line
# and sign in with it (password, then a passkey enrolled with the printed one-time code).
set -euo pipefail
BIN=${1:-./target/debug/permitd}
# The staff sign-in with a software passkey (api/examples/staff_session.rs), built beside it.
STAFF_SESSION=${STAFF_SESSION:-$(dirname "$BIN")/examples/staff_session}
DATA=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
passed=0; failed=0
check() { if eval "$2"; then passed=$((passed+1)); else echo "FAILED: $1"; failed=$((failed+1)); fi; }

check "help lists the configuration" "$BIN --help | grep PERMIT_DATA_DIR >/dev/null"

MPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PERMIT_DEMO=true PERMIT_LISTEN=127.0.0.1:$PORT PERMIT_METRICS_LISTEN=127.0.0.1:$MPORT PERMIT_DATA_DIR=$DATA "$BIN" >"$DATA/log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$DATA"' EXIT
for _ in $(seq 1 50); do curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break; sleep 0.2; done

check "healthz" "curl -fsS $BASE/healthz | grep ok >/dev/null"
check "readyz reports SQLite and the in-process store" "curl -fsS $BASE/readyz | grep sqlite >/dev/null"
check "seven service points" "[ \$(curl -fsS $BASE/api/v1/service-points | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') = 7 ]"
check "metrics are served on their own listener" "curl -fsS http://127.0.0.1:$MPORT/metrics | grep permit_http_requests_total >/dev/null"
check "and not on the main one" "[ \$(curl -s -o /dev/null -w '%{http_code}' $BASE/metrics) = 404 ]"
check "the SQLite file is in the data directory" "[ -f $DATA/permit.sqlite ]"
check "swagger ui" "curl -fsS $BASE/docs/ | grep -i swagger >/dev/null"

POINT=$(curl -fsS $BASE/api/v1/service-points | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
check "staff add refuses a weak password" "! echo weak | PERMIT_DATA_DIR=$DATA $BIN staff add --username clerk2 --role clerk --service-point $POINT 2>/dev/null"
check "staff add refuses an unknown service point" "! echo 'Clerk2026pw' | PERMIT_DATA_DIR=$DATA $BIN staff add --username clerk2 --role clerk --service-point 00000000-0000-0000-0000-000000000000 2>/dev/null"
echo 'Clerk2026pw' | PERMIT_DATA_DIR=$DATA $BIN staff add --username clerk2 --role clerk --service-point $POINT >"$DATA/staff-add.out" || true
CODE=$(sed -n 's/^one-time enrolment code: \([A-Z0-9-]*\).*/\1/p' "$DATA/staff-add.out")
check "staff add creates a clerk" "grep 'created clerk' $DATA/staff-add.out >/dev/null"
check "and prints a one-time enrolment code" "echo '$CODE' | grep -E '^[A-Z0-9]{4}(-[A-Z0-9]{4}){3}$' >/dev/null"
check "the password alone is no session: a clerk enrols a passkey next" "[ \$(curl -sS -o $DATA/first.json -w '%{http_code}' -H 'content-type: application/json' -d '{\"username\":\"clerk2\",\"password\":\"Clerk2026pw\"}' $BASE/api/v1/sessions) = 202 ] && grep '\"enrolment_required\":true' $DATA/first.json >/dev/null"
SESSION=$("$STAFF_SESSION" "$BASE" http://localhost:8080 clerk2 Clerk2026pw "$CODE" 2>"$DATA/staff-session.err" || true)
check "the clerk signs in with the password and a passkey enrolled with the code" "[ -n '$SESSION' ]"
check "the clerk's session shows its service point" "curl -fsS -H 'cookie: permit_session=$SESSION' $BASE/api/v1/me | grep $POINT >/dev/null"
check "the code is spent: a second enrolment with it is refused" "! \"$STAFF_SESSION\" $BASE http://localhost:8080 clerk2 Clerk2026pw $CODE >/dev/null 2>&1"
check "staff enrolment gives a new code" "PERMIT_DATA_DIR=$DATA $BIN staff enrolment --username clerk2 | grep -E 'one-time enrolment code: [A-Z0-9]{4}(-[A-Z0-9]{4}){3}' >/dev/null"
check "and refuses an account that is not staff" "! PERMIT_DATA_DIR=$DATA $BIN staff enrolment --username nobody >/dev/null 2>&1"
check "an unknown database scheme is refused clearly" "(DATABASE_URL=mysql://x PERMIT_DATA_DIR=$DATA $BIN staff add --username x --role admin <<<'' 2>&1 || true) | grep 'unsupported DATABASE_URL' >/dev/null"
check "the log holds no password" "! grep -q Clerk2026pw $DATA/log"
check "the log holds no enrolment code" "! grep -q '$CODE' $DATA/log"
check "a development key set was generated, readable by the owner only" "[ \"\$(stat -c %a $DATA/keys/root.key)\" = 600 ]"
check "the signed trust list is served" "curl -fsS $BASE/api/v1/trust-list?format=json | grep root_public_key >/dev/null"
check "keys rotate refuses an activation sooner than one trust-list time to live" "(PERMIT_DATA_DIR=$DATA $BIN keys rotate --activate-at \$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ) 2>&1 || true) | grep 'at the earliest' >/dev/null && [ \$(ls $DATA/keys/issuer-*.key | wc -l) = 1 ]"
check "keys rotate adds an issuer key, scheduled a trust-list time to live ahead" "PERMIT_DATA_DIR=$DATA $BIN keys rotate 2>/dev/null | grep 'added issuer key .* signs from' >/dev/null && [ \$(ls $DATA/keys/issuer-*.key | wc -l) = 2 ]"
check "keys show prints the pinned root key" "PERMIT_DATA_DIR=$DATA $BIN keys show | grep -E 'root public key: [0-9a-f]{64}' >/dev/null"
check "development personal-data keys were generated, readable by the owner only" "[ \"\$(stat -c %a $DATA/keys/index.key)\" = 600 ] && [ \$(ls $DATA/keys/data-*.key | wc -l) = 1 ]"
check "keys rotate-data adds a data key and reseals the accounts while permitd runs" "PERMIT_DATA_DIR=$DATA $BIN keys rotate-data --settle-seconds 0 | grep -E '^accounts: [1-9][0-9]* row' >/dev/null && [ \$(ls $DATA/keys/data-*.key | wc -l) = 2 ]"
check "the running permitd still reads the resealed clerk" "curl -fsS -H 'cookie: permit_session=$SESSION' $BASE/api/v1/me | grep $POINT >/dev/null"

echo "smoke: $passed passed, $failed failed"
[ "$failed" = 0 ]
