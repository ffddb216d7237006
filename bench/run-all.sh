#!/usr/bin/env bash
# Every committed benchmark result, in one session, from a clean tree at the commit being
# reported: the performance table (each comparison alternates the legacy peer and ours, both
# methods, 3 rounds; about 70 minutes), then the RPC and frame-cost benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build:services
bench() { node dist/bench/main.js "$@"; }
bench table --rounds 3
bench rpc
bench frame-cost
