#!/usr/bin/env bash
# make bench: every speed, memory and size target, printed as numbers, with
# the real peers (mosquitto_pub, mender-artifact, sha256sum) in the same run.
# RSS_DURATION (default 10m) is how long the agent monitors before its RSS is read.
set -euo pipefail
cd "$(dirname "$0")/.."
RSS_DURATION=${RSS_DURATION:-10m}
out=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$out"' EXIT

echo "== binary size (target: arm64 <= 10 MiB)"
for f in bin/medagent-linux-amd64 bin/medagent-linux-arm64 bin/medagent-linux-armv7; do
  printf '%-28s %8.2f MiB\n' "$f" "$(echo "$(stat -c %s "$f") / 1048576" | bc -l)"
done

echo "== RSS while monitoring ECG 500 Hz + PPG 100 Hz + temperature for $RSS_DURATION (target <= 20 MiB), in the background"
go run ./bench/rss --agent bin/medagent-linux-amd64 --duration "$RSS_DURATION" > "$out/rss.txt" 2>&1 &
rss_pid=$!

echo "== Go benchmarks"
go test -run '^$' -bench . -benchmem -benchtime 1x ./bench/... >/dev/null 2>&1 || true
pkgs=$(go list ./... | grep -v -e /devtools -e /bench/)
go test -run '^$' -bench . -benchmem $pkgs | grep -E '^(Benchmark|ok|FAIL|---)' | grep -v '^ok'

for s in bench/*/run.sh; do
  [ -f "$s" ] || continue
  echo "== $s"
  bash "$s"
done

echo "== RSS result"
wait "$rss_pid" || true
cat "$out/rss.txt"
