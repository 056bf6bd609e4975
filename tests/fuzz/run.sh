#!/usr/bin/env bash
# Whole-API fuzz of the real binary with schemathesis: permitd starts in demo mode on a fresh
# SQLite data directory, and the OpenAPI document it serves is fuzzed three ways, anonymous, as
# a signed-in resident and as a clerk. Any 5xx or any answer that does not match the document
# (status, content type, headers, body schema) fails the run.
#
#   run.sh PERMITD SCHEMATHESIS [EXAMPLES]   EXAMPLES: generated cases per operation [50]
#   (STAFF_SESSION: the staff sign-in example binary; by default examples/ beside PERMITD)
#
# With DATABASE_URL (an empty PostgreSQL database) and REDIS_URL set, permitd runs on those
# instead; `make fuzz` runs on SQLite.
set -euo pipefail
BIN=$1
ST=$2
EXAMPLES=${3:-50}
# The staff session maker, built from api/examples beside the binary.
STAFF_SESSION=${STAFF_SESSION:-$(dirname "$BIN")/examples/staff_session}
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"

# An easy captcha, so the resident registers quickly, and no wait between two SMS codes to one
# phone (registration, then the first sign-in); everything else as shipped.
PERMIT_DEMO=true PERMIT_LISTEN=127.0.0.1:$PORT PERMIT_DATA_DIR=$DATA PERMIT_CAPTCHA_DIFFICULTY=1000 \
  PERMIT_SMS_RESEND_INTERVAL_SECS=0 \
  "$BIN" >"$DATA/log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$DATA"' EXIT
for _ in $(seq 1 100); do curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break; sleep 0.2; done

# Both sessions are made before any fuzzing: the fuzz trips the per-address limits on SMS
# codes and failed sign-ins, which would then refuse them.
POINT=$(curl -fsS "$BASE/api/v1/service-points" | python3 -c 'import json,sys; print(next(p["id"] for p in json.load(sys.stdin) if p["name"] == "清波派出所受理点"))')
# The clerk signs in with the password and a software passkey enrolled with the one-time code
# `staff add` prints (api/examples/staff_session.rs, built beside permitd).
ENROLMENT=$(echo 'Fuzzclerk2026' | PERMIT_DATA_DIR=$DATA "$BIN" staff add --username fuzzclerk --role clerk \
  --service-point "$POINT" | sed -n 's/^one-time enrolment code: \([A-Z0-9-]*\).*/\1/p')
RESIDENT=$(python3 "$HERE/session.py" "$BASE" resident fuzzresident 13899990001)
CLERK=$("$STAFF_SESSION" "$BASE" http://localhost:8080 fuzzclerk Fuzzclerk2026 "$ENROLMENT")

# Real identifiers, so the fuzz reaches past "not found": the clerk's service point, an article,
# then a draft application of the resident's at that point (one open application per person).
ARTICLE=$(curl -fsS "$BASE/api/v1/articles" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
# A permit issued to the resident, for the wallet's and the counter's permit operations
# (this moves the development clock to the appointment day).
PERMIT=$(python3 "$HERE/session.py" "$BASE" permit "$RESIDENT,$CLERK" "$POINT")
APPLICATION=$(python3 "$HERE/session.py" "$BASE" draft "$RESIDENT" "$POINT")
# known OPERATION_PATH_REGEX NAME VALUE: a [[operations]] block that fixes one path parameter.
known() { printf '\n[[operations]]\ninclude-path-regex = "%s"\nparameters = { "path.%s" = "%s" }\n' "$1" "$2" "$3"; }
KNOWN=$(known '^/service-points/\\{id\\}' id "$POINT"; known '^/articles/\\{id\\}' id "$ARTICLE"
  known '^/(staff/)?applications/\\{id\\}' id "$APPLICATION"; known '^/regions/\\{code\\}' code 330102001
  known '^/(staff/)?permits/\\{id\\}' id "$PERMIT")

passed=0; failed=0
# fuzz NAME SESSION [schemathesis options]: SESSION is the cookie's value, or "" for none.
fuzz() {
  local who=$1 session=$2; shift 2
  local config="$DATA/schemathesis-$RANDOM.toml"
  cp "$HERE/schemathesis.toml" "$config"
  echo "$KNOWN" >>"$config"
  if [ -n "$session" ]; then
    printf '\n[auth.openapi.SessionAuth]\napi_key = "%s"\n' "$session" >>"$config"
  fi
  echo "== fuzz: $who"
  # -n bounds the fuzzing phase; the examples and coverage phases add their own cases.
  if "$ST" --config-file "$config" run "$BASE/openapi.json" \
      --max-examples "$EXAMPLES" --seed 13 --no-color "$@"; then
    passed=$((passed+1))
  else
    echo "FAILED: fuzz $who"; failed=$((failed+1))
  fi
}

# Signing out would end the session the rest of the run uses, and moving the development
# clock would expire it (and every code and challenge); the anonymous run covers the first,
# and the clock is fuzzed last, on its own.
AUTHED=(--exclude-path /sessions/current --exclude-path /dev/clock)
fuzz anonymous "" --exclude-path /dev/clock
fuzz resident "$RESIDENT" "${AUTHED[@]}"
fuzz clerk "$CLERK" "${AUTHED[@]}"
fuzz "development clock" "" --include-path /dev/clock

if grep -q 'panicked' "$DATA/log"; then
  echo "FAILED: permitd panicked:"; grep -A3 panicked "$DATA/log"; failed=$((failed+1))
fi
if [ "$failed" != 0 ]; then
  echo "server errors in the permitd log:"; grep -E 'request failed|unhandled error' "$DATA/log" | tail -40 || true
fi
echo "fuzz: $passed passed, $failed failed"
[ "$failed" = 0 ]
