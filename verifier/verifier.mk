# Makefile fragment for the permit-verifier crate; the root Makefile includes it.
# Paths are relative to the repository root. Variables are prefixed VERIFIER_.

VERIFIER_CARGO ?= cargo
# Where cargo puts its output (follows CARGO_TARGET_DIR when set).
VERIFIER_TARGET_DIR ?= $(or $(CARGO_TARGET_DIR),target)
# wasm-bindgen (the crate, pinned in verifier/Cargo.toml) and wasm-bindgen-cli must match exactly.
VERIFIER_WASM_BINDGEN_VERSION := 0.2.130
VERIFIER_WASM_TARGET := wasm32-unknown-unknown
# Optimise the wasm module for size (251 KB instead of 384 KB; one verification per scan).
VERIFIER_WASM_PROFILE ?= CARGO_PROFILE_RELEASE_OPT_LEVEL=s CARGO_PROFILE_RELEASE_LTO=fat \
	CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
VERIFIER_WASM_FILE := $(VERIFIER_TARGET_DIR)/$(VERIFIER_WASM_TARGET)/release/permit_verifier.wasm
# wasm-bindgen output: --target nodejs (for the Node test) and --target web (for the PWA).
VERIFIER_WASM_DIR ?= $(VERIFIER_TARGET_DIR)/verifier-wasm
VERIFIER_WASM_WEB_DIR ?= $(VERIFIER_TARGET_DIR)/verifier-wasm-web
# The module the bindings in those folders were made from.
VERIFIER_WASM_STAMP := $(VERIFIER_TARGET_DIR)/verifier-wasm.sha256
# Length of a fuzzing run, in seconds; the proptest smoke run's number of cases.
VERIFIER_FUZZ_SECONDS ?= 300
VERIFIER_FUZZ_TARGET ?= verify
VERIFIER_SMOKE_CASES ?= 20000

.PHONY: verifier-test verifier-wasm verifier-wasm-test verifier-vectors verifier-bench \
	verifier-fuzz verifier-fuzz-smoke verifier-lint

## verifier-test: unit, vector, external-vector, property and CLI tests (all features),
## plus a build of the pure verifier (no default features: no signing code, no CLI).
verifier-test:
	$(VERIFIER_CARGO) build -p permit-verifier --no-default-features --lib
	$(VERIFIER_CARGO) test -p permit-verifier --all-features

## verifier-lint: clippy (warnings are errors) and rustfmt for the crate.
verifier-lint:
	$(VERIFIER_CARGO) clippy -p permit-verifier --all-targets --all-features -- -D warnings
	$(VERIFIER_CARGO) fmt -p permit-verifier -- --check

## verifier-wasm: the WebAssembly module and its JS bindings.
verifier-wasm:
	rustup target add $(VERIFIER_WASM_TARGET)
	@if [ "$$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $(VERIFIER_WASM_BINDGEN_VERSION)" ]; then \
		echo "installing wasm-bindgen-cli $(VERIFIER_WASM_BINDGEN_VERSION)"; \
		$(VERIFIER_CARGO) install wasm-bindgen-cli --version $(VERIFIER_WASM_BINDGEN_VERSION) --locked \
		|| $(VERIFIER_CARGO) install wasm-bindgen-cli --version $(VERIFIER_WASM_BINDGEN_VERSION); \
	fi
	$(VERIFIER_WASM_PROFILE) $(VERIFIER_CARGO) rustc -p permit-verifier --lib --release \
		--target $(VERIFIER_WASM_TARGET) --no-default-features --features wasm --crate-type cdylib
	@# The bindings are written again only for a new module: rewritten files would look new to
	@# the PWA build that bundles them.
	@sum=$$(sha256sum < $(VERIFIER_WASM_FILE)); \
	if [ "$$(cat $(VERIFIER_WASM_STAMP) 2>/dev/null)" != "$$sum" ] || [ ! -d $(VERIFIER_WASM_DIR) ] || [ ! -d $(VERIFIER_WASM_WEB_DIR) ]; then \
	  echo "wasm-bindgen: $(VERIFIER_WASM_DIR), $(VERIFIER_WASM_WEB_DIR)"; \
	  wasm-bindgen --target nodejs --out-dir $(VERIFIER_WASM_DIR) $(VERIFIER_WASM_FILE) && \
	  wasm-bindgen --target web --out-dir $(VERIFIER_WASM_WEB_DIR) $(VERIFIER_WASM_FILE) && \
	  echo "$$sum" > $(VERIFIER_WASM_STAMP); \
	else \
	  echo "wasm-bindgen: the bindings are up to date"; \
	fi

## verifier-wasm-test: the committed vectors through the wasm module, in Node's test runner.
verifier-wasm-test: verifier-wasm
	PERMIT_VERIFIER_WASM_DIR=$(abspath $(VERIFIER_WASM_DIR)) node --test verifier/wasm-test/

## verifier-vectors: regenerate verifier/tests/vectors/*.json (the tests check they match).
verifier-vectors:
	$(VERIFIER_CARGO) run -p permit-verifier --no-default-features --features issue --example gen_vectors

## verifier-bench: criterion benchmarks (raw Ed25519, pipeline, batch, issue + SVG).
verifier-bench:
	$(VERIFIER_CARGO) bench -p permit-verifier --no-default-features --features issue --bench pipeline

## verifier-fuzz: coverage-guided fuzzing with cargo-fuzz (libFuzzer), seeded with the vectors'
## QR texts. cargo-fuzz passes nightly-only compiler flags: with no nightly toolchain it runs on
## the stable compiler with RUSTC_BOOTSTRAP=1 (works with rustc 1.95; an escape hatch, see
## verifier/README.md). Runs VERIFIER_FUZZ_SECONDS of VERIFIER_FUZZ_TARGET (verify or lists).
verifier-fuzz:
	command -v cargo-fuzz >/dev/null || $(VERIFIER_CARGO) install cargo-fuzz --locked
	mkdir -p verifier/fuzz/corpus/verify
	python3 -c 'import json, glob, os; [open("verifier/fuzz/corpus/verify/" + os.path.basename(f)[:-5], "w").write(json.load(open(f))["qr"]) for f in glob.glob("verifier/tests/vectors/*.json")]'
	cd verifier/fuzz && if rustup run nightly rustc --version >/dev/null 2>&1; then \
		cargo +nightly fuzz run $(VERIFIER_FUZZ_TARGET) -- -max_total_time=$(VERIFIER_FUZZ_SECONDS); \
	else \
		RUSTC_BOOTSTRAP=1 cargo fuzz run $(VERIFIER_FUZZ_TARGET) -- -max_total_time=$(VERIFIER_FUZZ_SECONDS); \
	fi

## verifier-fuzz-smoke: the property tests with many more random cases, on stable Rust.
verifier-fuzz-smoke:
	PROPTEST_CASES=$(VERIFIER_SMOKE_CASES) $(VERIFIER_CARGO) test -p permit-verifier --release --test properties
