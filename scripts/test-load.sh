#!/usr/bin/env bash
# The tests that run in real time (a pty, the sampling threads, the spool's
# fsyncs, the agent's own clock) run again with the machine loaded as
# issue 12 asks: stress-ng --cpu 4 --io 1 on top of whatever else runs.
# The test binaries are built first, so the compiler is not under stress.
# Tests in a testing/synctest bubble are independent of load and are not
# repeated here. About 90 s on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
bin=$(mktemp -d)
stress=
cleanup() {
  if [ -n "$stress" ]; then
    kill "$stress" 2>/dev/null || true
    wait "$stress" 2>/dev/null || true # killed: 143, not the script's status
  fi
  rm -rf "$bin"
}
trap cleanup EXIT

# package -> the tests to run there under load ('.' is every test)
declare -A runs=(
  [acquire]='.'
  [sensors/nonin]='.'
  [sensors/simrig]='.'
  [spool]='TestTailing|TestEvicted|TestGroupCommit|TestKill9|TestFullFileSystem|TestReaderDeliversOnlyDurable'
  [agent]='TestAcquireRoleSpools|TestAcquireRoleRealDriversThroughSpool'
)
for p in "${!runs[@]}"; do
  $GO test -c -o "$bin/${p//\//_}.test" "./$p"
done

stress-ng --cpu 4 --io 1 --timeout 300s --quiet &
stress=$!
sleep 2
echo "test-load: stress-ng --cpu 4 --io 1 running; $(cut -d' ' -f1-3 /proc/loadavg) load"
fail=0
for p in $(printf '%s\n' "${!runs[@]}" | sort); do
  start=$SECONDS
  if (cd "$p" && "$bin/${p//\//_}.test" -test.count=1 -test.timeout=5m -test.run "${runs[$p]}" >"$bin/out" 2>&1); then
    echo "ok    $p ($((SECONDS - start)) s, load $(cut -d' ' -f1 /proc/loadavg))"
  else
    echo "FAIL  $p under stress-ng --cpu 4 --io 1 (load $(cut -d' ' -f1 /proc/loadavg)):"
    cat "$bin/out"
    fail=1
  fi
done
exit $fail
