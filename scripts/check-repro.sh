#!/usr/bin/env bash
# Builds the arm64 binary twice, from two copies of the tree at different paths
# and with separate build caches, and checks the two are byte-identical
# (reproducible builds: same commit, same bytes).
set -euo pipefail
cd "$(dirname "$0")/.."
a=$(mktemp -d); b=$(mktemp -d)
trap 'rm -rf "$a" "$b"' EXIT
ld="-s -w -buildid= -X medagent/version.Version=repro -X medagent/version.Commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)"
gc=$(grep -v '^#' scripts/device-buildflags) # as make build compiles it
export CGO_ENABLED=0 GOOS=linux GOARCH=arm64
go build -trimpath -buildvcs=false $gc -ldflags "$ld" -o "$a/medagent" ./cmd/medagent
# A second copy of the tree at another path must give the same bytes.
git ls-files -z -co --exclude-standard | xargs -0 -I{} cp --parents {} "$b/"
# A fresh build cache, so that nothing compiled for the first build is reused.
(cd "$b" && GOCACHE="$b/.cache" go build -trimpath -buildvcs=false $gc -ldflags "$ld" -o "$b/medagent.out" ./cmd/medagent)
if cmp -s "$a/medagent" "$b/medagent.out"; then
  echo "repro: ok, two arm64 builds are identical ($(sha256sum < "$a/medagent" | cut -c1-16)…, $(stat -c %s "$a/medagent") bytes)"
else
  echo "repro: FAIL: two builds of the same commit differ" >&2
  exit 1
fi
