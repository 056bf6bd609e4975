#!/usr/bin/env bash
# Prints one hash of everything `vite build` reads: the PWA's sources and configuration, the
# locked dependencies, the verifier's wasm module (../target/verifier-wasm-web) and the VITE_*
# variables. `make pwa-build` rebuilds dist/ only when it changes: a rebuild writes new files,
# and new files make cargo re-embed them and relink permitd.
set -euo pipefail
cd "$(dirname "$0")/.."
{
  find . \( -path ./node_modules -o -path ./dist -o -path ./e2e -o -path ./perf -o -path ./tests \
    -o -name README.md \) -prune -o -type f -print | LC_ALL=C sort | xargs -d '\n' sha256sum
  if [ -d ../target/verifier-wasm-web ]; then
    find ../target/verifier-wasm-web -type f | LC_ALL=C sort | xargs -d '\n' sha256sum
  fi
  env | grep '^VITE_' | LC_ALL=C sort || true
} | sha256sum | cut -d' ' -f1
