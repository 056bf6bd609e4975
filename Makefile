# permitd: `make run` starts the server on the embedded default in demo mode;
# `make test` runs every test, including the PostgreSQL and Redis runs.

SHELL := /bin/bash
CARGO ?= cargo
PG_ADMIN_URL ?= postgres://postgres@127.0.0.1:5432/postgres
REDIS_TEST_URL ?= redis://127.0.0.1:6379
# An S3-compatible server for the object-store test: moto's, from PyPI, in its own venv.
S3_TEST_PORT ?= 9000
S3_TEST_URL ?= http://127.0.0.1:$(S3_TEST_PORT)
MOTO_VENV ?= $(HOME)/.cache/permit/moto-venv
MOTO_VERSION := 5.2.5
# The whole-API fuzz (tests/fuzz): schemathesis, from PyPI, in its own venv. FUZZ_EXAMPLES is the
# number of generated cases per operation: `make fuzz` runs the full count, `make test` a short one.
SCHEMATHESIS_VENV ?= $(HOME)/.cache/permit/schemathesis-venv
SCHEMATHESIS_VERSION := 4.32.5
FUZZ_EXAMPLES ?= 50
FUZZ_SHORT_EXAMPLES ?= 10
APT_PACKAGES := pkg-config libssl-dev postgresql-client redis-tools curl fonts-noto-cjk poppler-utils systemd haproxy redis-server postgresql

.PHONY: run build test deps services s3-server schemathesis layers test-rust test-postgres test-smoke test-systemd test-fuzz fuzz test-pwa pwa-wasm permitd-debug lint bench status-list-scale clean-test-dbs load scale test-scale

TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)

run: deps build
	PERMIT_DEMO=true $(TARGET_DIR)/release/permitd

# The PWA is embedded in permitd, so it is built first, after the verifier's wasm module its
# scanner uses offline. Each step does nothing when its inputs are unchanged, so a second
# `make run` starts the binary it built before.
build: deps verifier-wasm pwa-build
	$(CARGO) build --release --workspace

# The debug permitd that the smoke test, the fuzz and the browser journeys drive, built the way
# `cargo test` builds it for the API tests: with the dev-dependencies' features (among them
# tokio's test-util, which webauthn-authenticator-rs turns on, and reqwest's cookies, json and
# multipart). A plain `cargo build -p permit-api` resolves other features, and so compiles
# most of the dependency tree a second time. The staff sign-in example (a software passkey) is
# an example, so it is built with the dev-dependencies too.
PERMITD_DEBUG := $(TARGET_DIR)/debug/permitd
permitd-debug:
	$(CARGO) test -p permit-api --no-run --test openapi
	$(CARGO) build -p permit-api --example staff_session

# System packages the build needs; installed only when missing.
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

# PostgreSQL and Redis: start them if they are not running. Under CI they are mandatory.
services: deps
	@if ! pg_isready -q -h 127.0.0.1 -p 5432; then \
	  echo "starting PostgreSQL"; \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql 2>/dev/null | head -1) main start 2>/dev/null || true; \
	  for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; \
	fi
	@if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then \
	  echo "starting Redis"; \
	  mkdir -p /var/lib/redis /var/log/redis; \
	  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log || true; \
	  for i in $$(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done; \
	fi
	@ok=1; pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL is not reachable at 127.0.0.1:5432"; ok=0; }; \
	redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || { echo "Redis is not reachable at 127.0.0.1:6379"; ok=0; }; \
	if [ $$ok = 0 ] && [ "$$CI" = "true" ]; then echo "CI requires PostgreSQL and Redis"; exit 1; fi

# The S3 test (api/tests/s3.rs) talks to moto's S3 server over HTTP; start it if it is not
# running. Under CI it is mandatory.
s3-server:
	@if ! curl -sf -o /dev/null $(S3_TEST_URL)/; then \
	  if [ ! -x $(MOTO_VENV)/bin/moto_server ]; then \
	    echo "installing moto $(MOTO_VERSION) into $(MOTO_VENV)"; \
	    python3 -m venv $(MOTO_VENV) && $(MOTO_VENV)/bin/pip install -q 'moto[server]==$(MOTO_VERSION)'; \
	  fi; \
	  echo "starting the S3 test server on $(S3_TEST_URL)"; \
	  nohup $(MOTO_VENV)/bin/moto_server -H 127.0.0.1 -p $(S3_TEST_PORT) >/tmp/permit-moto.log 2>&1 & \
	  for i in $$(seq 1 30); do curl -sf -o /dev/null $(S3_TEST_URL)/ && break; sleep 1; done; \
	fi
	@if ! curl -sf -o /dev/null $(S3_TEST_URL)/; then \
	  echo "no S3 server at $(S3_TEST_URL) (see /tmp/permit-moto.log)"; \
	  if [ "$$CI" = "true" ]; then exit 1; fi; \
	fi

# Test databases are created per test as permit_test_*; drop the ones earlier runs left.
clean-test-dbs:
	@if pg_isready -q -h 127.0.0.1 -p 5432; then \
	  psql -q -At "$(PG_ADMIN_URL)" -c "SELECT datname FROM pg_database WHERE datname LIKE 'permit_test_%'" 2>/dev/null | \
	  while read -r db; do psql -q "$(PG_ADMIN_URL)" -c "DROP DATABASE IF EXISTS \"$$db\"" >/dev/null 2>&1; done; \
	fi; true

TEST_ENV = PERMIT_TEST_POSTGRES_URL=$(PG_ADMIN_URL) PERMIT_TEST_REDIS_URL=$(REDIS_TEST_URL) PERMIT_TEST_S3_URL=$(S3_TEST_URL)

test: layers services s3-server clean-test-dbs verifier-wasm pwa-build test-rust test-postgres verifier-test verifier-wasm-test test-smoke test-scale test-fuzz test-pwa
	@echo "all test suites passed"

# Every Rust test: unit tests, the storage and ephemeral-store suites against both backends,
# the API scenarios on SQLite with the in-process store, and proof files in an S3 bucket.
test-rust:
	$(TEST_ENV) $(CARGO) test --workspace --exclude permit-verifier

# The API scenarios again, on PostgreSQL with Redis.
test-postgres:
	$(TEST_ENV) PERMIT_TEST_BACKEND=postgres $(CARGO) test -p permit-api --test api --test applications --test permits --test step_up --test edge --test guessing --test staff --test sms_gateways --test retention --test privacy --test personal_data --test pages --test instances

# The real binary: start it, register over HTTP, add a staff account from the command line.
test-smoke: permitd-debug test-systemd
	bash tests/smoke.sh $(PERMITD_DEBUG)

# The systemd unit (deploy/permitd.service), verified by systemd-analyze with the built binary
# in place of /usr/local/bin/permitd; any warning fails (systemd-analyze itself exits 0 on them).
test-systemd: deps permitd-debug
	@dir=$$(mktemp -d); \
	sed 's#/usr/local/bin/permitd#$(abspath $(PERMITD_DEBUG))#g' deploy/permitd.service > $$dir/permitd.service; \
	out=$$(systemd-analyze verify $$dir/permitd.service 2>&1); rc=$$?; rm -rf $$dir; \
	if [ $$rc != 0 ] || [ -n "$$out" ]; then echo "$$out"; echo "deploy/permitd.service: systemd-analyze verify failed"; exit 1; fi; \
	echo "deploy/permitd.service: systemd-analyze verify passed"

# Two permitd instances behind HAProxy, on a private PostgreSQL and Redis the script stops and
# starts, with the S3 test server (tests/scale/run.sh): sessions and SMS codes across instances,
# opposite moves, concurrent issues, a booking surge, faults under load, the signed lists.
# `make scale` has the issue's numbers and rewrites tests/scale/results.md; `make test-scale` is
# the short form `make test` runs.
scale: deps s3-server permitd-debug
	bash tests/scale/run.sh $(PERMITD_DEBUG) --size full --results tests/scale/results.md

test-scale: deps s3-server permitd-debug
	bash tests/scale/run.sh $(PERMITD_DEBUG) --size short

# The whole-API fuzz: permitd in demo mode, its OpenAPI document fuzzed anonymous, as a resident
# and as a clerk; any 5xx or any answer the document does not describe fails (tests/fuzz/run.sh).
schemathesis:
	@if [ ! -x $(SCHEMATHESIS_VENV)/bin/schemathesis ] || \
	    ! $(SCHEMATHESIS_VENV)/bin/schemathesis --version | grep -q 'version $(SCHEMATHESIS_VERSION)$$'; then \
	  echo "installing schemathesis $(SCHEMATHESIS_VERSION) into $(SCHEMATHESIS_VENV)"; \
	  python3 -m venv $(SCHEMATHESIS_VENV) && $(SCHEMATHESIS_VENV)/bin/pip install -q 'schemathesis==$(SCHEMATHESIS_VERSION)'; \
	fi

fuzz: deps schemathesis permitd-debug
	bash tests/fuzz/run.sh $(PERMITD_DEBUG) $(SCHEMATHESIS_VENV)/bin/schemathesis $(FUZZ_EXAMPLES)

# The short form `make test` runs.
test-fuzz:
	$(MAKE) fuzz FUZZ_EXAMPLES=$(FUZZ_SHORT_EXAMPLES)

# The booking surge: 1000 clients race for 300 places on SQLite and on PostgreSQL + Redis,
# with pgbench's single-row conditional UPDATE as the baseline; rewrites tests/load/results.md.
load: services
	bash tests/load/booking_surge.sh

# The PWA's offline scanner imports the verifier's wasm module from ./target/verifier-wasm-web;
# copy it there when CARGO_TARGET_DIR puts the build elsewhere.
pwa-build: pwa-wasm
pwa-wasm: verifier-wasm
	@if [ "$(abspath $(VERIFIER_WASM_WEB_DIR))" != "$(abspath target/verifier-wasm-web)" ] && \
	    ! diff -rq $(VERIFIER_WASM_WEB_DIR) target/verifier-wasm-web >/dev/null 2>&1; then \
	  mkdir -p target && rm -rf target/verifier-wasm-web && cp -r $(VERIFIER_WASM_WEB_DIR) target/verifier-wasm-web; \
	fi

# The PWA: component tests, then the browser journeys against the debug permitd.
test-pwa: pwa-unit permitd-debug
	$(MAKE) pwa-e2e PERMITD=$(PERMITD_DEBUG)

# The shape of api/src: model, store and service modules stay below http, and a context
# reaches another only through its service or model (tests/layers.py).
layers:
	python3 tests/layers.py --self-test
	python3 tests/layers.py

lint: layers
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

bench: verifier-bench

# The status list at scale (README "Status list at scale"), for 1 and 10 million permits with
# 0.1 % and 1 % revoked: the signed list's size, the time to produce it from the bit array and the
# verifier's parse and lookup (release verifier); the store's read of the bit array on SQLite and
# PostgreSQL (permit-api built as for the tests).
status-list-scale: services
	$(CARGO) run --release -p permit-verifier --features issue --example status_list_scale
	$(CARGO) run -p permit-api --example status_list_read -- --postgres $(PG_ADMIN_URL)

include verifier/verifier.mk
include pwa/pwa.mk
