# The PWA's targets; the root Makefile can `include pwa/pwa.mk`.
#   pwa-deps   npm ci from the committed package-lock.json (no browser downloads)
#   pwa-build  type-check and build to pwa/dist (hashed assets, sw.js, manifest), when its
#              inputs changed
#   pwa-unit   Vitest unit and component tests
#   pwa-e2e    Playwright (playwright-core + Debian's Chromium) against PERMITD=path/to/permitd,
#              started in demo mode on a free port with a temp data dir, serving the app it
#              embeds (E2E_SERVER=permitd: its CSP and compression are under test too);
#              screenshots in test-output/pwa/
#   pwa-layout the public screens in large text and at 200 % zoom, zh-CN and en (e2e/layout.mjs:
#              overlaps, clipped text, 44 px targets), against PERMITD=path/to/permitd; ~1 min
PWA_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
PWA_ROOT := $(abspath $(PWA_DIR)/..)
NPM ?= npm
CHROMIUM ?= /usr/bin/chromium
PWA_APT_PACKAGES := chromium fonts-noto-cjk
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: pwa-deps pwa-build pwa-unit pwa-e2e pwa-size pwa-browser pwa-layout

$(PWA_DIR)/node_modules/.package-lock.json: $(PWA_DIR)/package.json $(PWA_DIR)/package-lock.json
	cd $(PWA_DIR) && $(NPM) ci --no-audit --no-fund --loglevel=error

pwa-deps: $(PWA_DIR)/node_modules/.package-lock.json

# Built only when its inputs changed (scripts/build-inputs.sh hashes them): an unchanged tree
# keeps dist/ as it is, so cargo has nothing new to embed. The hash of the last build is kept
# next to node_modules' own caches (a fresh `npm ci` starts over).
PWA_BUILD_STAMP := $(PWA_DIR)/node_modules/.cache/permit/dist-inputs.sha256

pwa-build: pwa-deps
	@inputs=$$(bash $(PWA_DIR)/scripts/build-inputs.sh); \
	if [ -f $(PWA_DIR)/dist/index.html ] && [ "$$(cat $(PWA_BUILD_STAMP) 2>/dev/null)" = "$$inputs" ]; then \
	  echo "pwa-build: pwa/dist is up to date"; \
	else \
	  rm -f $(PWA_BUILD_STAMP) && \
	  (cd $(PWA_DIR) && $(NPM) run --silent build) && \
	  (cd $(PWA_DIR) && node scripts/first-load-size.mjs) && \
	  mkdir -p $(dir $(PWA_BUILD_STAMP)) && echo "$$inputs" > $(PWA_BUILD_STAMP); \
	fi

pwa-size:
	cd $(PWA_DIR) && node scripts/first-load-size.mjs

pwa-unit: pwa-deps
	cd $(PWA_DIR) && CI=true npx vitest run

# Debian's Chromium and a CJK font, installed only when missing.
pwa-browser:
	@if [ ! -x "$(CHROMIUM)" ] || ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then \
	  echo "installing: $(PWA_APT_PACKAGES)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(PWA_APT_PACKAGES); \
	fi

pwa-e2e: pwa-build pwa-browser
	@if [ -z "$(PERMITD)" ]; then echo "pwa-e2e: set PERMITD=path/to/permitd"; exit 2; fi
	cd $(PWA_DIR) && E2E_SERVER=permitd PERMITD="$(abspath $(PERMITD))" CHROMIUM="$(CHROMIUM)" \
	  SCREENSHOTS="$(PWA_ROOT)/test-output/pwa" node e2e/run.mjs

pwa-layout: pwa-build pwa-browser
	@if [ -z "$(PERMITD)" ]; then echo "pwa-layout: set PERMITD=path/to/permitd"; exit 2; fi
	cd $(PWA_DIR) && PERMITD="$(abspath $(PERMITD))" CHROMIUM="$(CHROMIUM)" \
	  SCREENSHOTS="$(PWA_ROOT)/test-output/pwa" node e2e/layout-screens.mjs
