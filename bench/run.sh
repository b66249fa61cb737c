#!/usr/bin/env bash
# make bench: every speed, memory and size target, printed as numbers, with
# the real peers (mosquitto_pub, mender-artifact, sha256sum) in the same run.
# RSS_DURATION (default 10m) is how long the agent monitors before its RSS
# is read; it runs in the background while the other benchmarks run.
set -euo pipefail
cd "$(dirname "$0")/.."
RSS_DURATION=${RSS_DURATION:-10m}
out=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$out"' EXIT

section() { printf '\n== %s\n' "$*"; }
gobench() { # gobench PKG REGEX BENCHTIME [env...]
  local pkg=$1 re=$2 bt=$3; shift 3
  env "$@" go test -run '^$' -bench "$re" -benchtime "$bt" -benchmem "$pkg" 2>&1 |
    grep -E '^(Benchmark|FAIL|---|panic)' || true
}

section "binary size (target: arm64 <= 8 MiB, armv7 <= 8.5 MiB; Mender client 3.4 is 10.3 MB on amd64, dynamic)"
for f in bin/medagent-linux-amd64 bin/medagent-linux-arm64 bin/medagent-linux-armv7 bin/medagent-sim-linux-amd64; do
  s=$(stat -c %s "$f"); awk -v f="$f" -v s="$s" 'BEGIN{printf "%-28s %9d bytes = %5.2f MiB\n", f, s, s/1048576}'
done
section "the ten biggest contributors to the arm64 device binary (symbols of an unstripped build of the same code)"
GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -trimpath -buildvcs=false $(grep -v '^#' scripts/device-buildflags) -o "$out/medagent-arm64.syms" ./cmd/medagent
go run ./devtools/binsize -n 10 "$out/medagent-arm64.syms"

section "agent RSS over $RSS_DURATION (target <= 20 MiB): running in the background, result at the end"
go run ./bench/rss --agent bin/medagent-sim-linux-amd64 --duration "$RSS_DURATION" > "$out/rss.txt" 2>&1 &
rss_pid=$!

section "spool: durable append (group commit), encryption overhead, bbolt comparison"
gobench ./spool 'Append|ReadAck|FrameEncode' 2s
section "uplink: end-to-end records/s into mosquitto over mTLS vs mosquitto_pub; 10-minute backlog drain (target < 30 s)"
gobench ./uplink 'VsMosquittoPub|DrainBacklog' 3x
section "senml encode"
gobench ./senml . 1s
section "ECG: two-channel 360 Hz record on one core (target >= 1000x real time, 0 allocs/sample)"
gobench ./edge/ecg 'TwoChannelRecord|MonitorRecord' 3x GOMAXPROCS=1
gobench ./wfdb ReadRecord 3x
section "PPG, temperature, alarms (0 allocs per sample; alarm latency = onset delay)"
gobench ./edge/ppg . 1s
gobench ./edge/temp . 1s
gobench ./edge/alarm . 100x
section "simulated patient and drivers against their register-level simulators (0 allocs per sample)"
gobench ./sensors/sim . 1s
gobench ./sensors/tmp117 . 1s
gobench ./sensors/max3010x . 1s
gobench ./sensors/ads1292 . 1s
gobench ./sensors/nonin . 1s
section "update: 256 MiB artifact read+verify vs mender-artifact and sha256sum; peak RSS of a 1 GiB install; slot write"
gobench ./update/artifact 'ReadVsTools|PeakRSS' 1x
gobench ./update/slot Write256MiB 1x
section "update: whole install of a 256 MiB image (targets: uncompressed <= 1.3 x openssl dgst -sha256, gzip <= 0.6 x mender-artifact cp; slot in /dev/shm), and into a disk file vs dd conv=fsync"
gobench ./update/engine InstallVsTools 1x
section "update: install with and without verify-before-write chunk list vs openssl dgst -sha256 (target <= 1.3 x); peak RSS of each install in a child"
gobench ./update/engine InstallChunks 3x
section "update: hostile artifacts (multi-stream xz bomb, gzip members, zstd window) refused within 32 MiB; install peak RSS of a child (target <= 32 MiB)"
go test -count=1 -run 'TestHostileArtifactsBoundedMemory|TestInstallPeakRSS' -v ./update/artifact ./update/engine 2>&1 | grep -E 'peak RSS|^(--- |ok|FAIL)' || true

section "drain of a 10-minute backlog after the broker was away 60 s (goal <= 10 s including reconnect)"
go run ./bench/drain --agent bin/medagent-sim-linux-amd64

section "end-to-end alarm latency: patient change -> alarm at an MQTT subscriber (real agent, mosquitto, mTLS)"
go run ./bench/alarmlatency --agent bin/medagent-sim-linux-amd64

section "QRS detection on MIT-BIH (make bench-ecg for the per-record table)"
go run ./bench/ecg 2>&1 | grep -iE 'gross|total' || true

section "RSS result"
wait "$rss_pid" || true
cat "$out/rss.txt"
