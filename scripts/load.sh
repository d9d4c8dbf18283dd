#!/usr/bin/env bash
# Load run: phonegate on loopback with its embedded default policy, ghz
# against it for a bounded time, then phonegate is stopped. Usage:
#   scripts/load.sh [CONCURRENCY] [DURATION]      (defaults: 8 10s)
# Needs only Go and the module proxy (ghz is installed from it).
set -euo pipefail
cd "$(dirname "$0")/.."
concurrency=${1:-8}
duration=${2:-10s}
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

GOBIN="$work" go install github.com/bojand/ghz/cmd/ghz@v0.93.0
go build -o "$work/phonegate" ./cmd/phonegate
"$work/phonegate" serve --grpc-addr 127.0.0.1:19001 --http-addr 127.0.0.1:19002 >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do curl -sf 127.0.0.1:19002/readyz >/dev/null && break; sleep 0.1; done

"$work/ghz" --insecure --call envoy.service.auth.v3.Authorization/Check \
  -D filter/testdata/load/check.json -z "$duration" -c "$concurrency" --connections 2 \
  127.0.0.1:19001
echo "phonegate resident memory: $(ps -o rss= -p "$pid") KiB"
