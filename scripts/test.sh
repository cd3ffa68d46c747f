#!/usr/bin/env bash
# The whole test command: build, type-check, lint, layer check, then every test (node's test runner).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== build (tsc, strict)"; npx tsc -p tsconfig.json
echo "== lint (type-aware)"; npx eslint .
echo "== layers (dependency-cruiser)"; npx depcruise src --config .dependency-cruiser.cjs --output-type err
echo "== tests"
# One file at a time keeps timing-sensitive tests (crash, watch) away from each other on 2 cores.
files=$(find dist -name '*.test.js' | sort)
node --test --test-concurrency=1 --test-timeout=600000 --test-reporter=spec $files
