#!/usr/bin/env bash
# Every committed benchmark result, in one session: each comparison alternates the legacy
# peer and ours so both see the same (shared, noisy) machine. Build first: npm run build:services
set -euo pipefail
cd "$(dirname "$0")/.."
bench() { node dist/bench/main.js "$@"; }
bench compare seed-stress --rounds 3
bench compare knee --rounds 3 --workers 1 --step-seconds 6 --retries 0 --warmup-seconds 4
bench compare fanout --rounds 1
bench compare connections --rounds 1
bench rpc
bench frame-cost
