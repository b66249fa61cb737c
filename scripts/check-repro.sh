#!/usr/bin/env bash
# Builds the arm64 binary twice, in different directories, and checks the two
# are byte-identical (reproducible builds: same commit, same bytes).
set -euo pipefail
cd "$(dirname "$0")/.."
a=$(mktemp -d); b=$(mktemp -d)
trap 'rm -rf "$a" "$b"' EXIT
ld="-s -w -buildid= -X medagent/version.Version=repro -X medagent/version.Commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)"
export CGO_ENABLED=0 GOOS=linux GOARCH=arm64
go build -trimpath -buildvcs=false -ldflags "$ld" -o "$a/medagent" ./cmd/medagent
# A second copy of the tree at another path must give the same bytes.
git ls-files -z | xargs -0 -I{} cp --parents {} "$b/" 2>/dev/null || cp -r . "$b/src"
src="$b"; [ -d "$b/src" ] && src="$b/src"
(cd "$src" && GOFLAGS=-mod=mod go build -trimpath -buildvcs=false -ldflags "$ld" -o "$b/medagent.out" ./cmd/medagent)
if cmp -s "$a/medagent" "$b/medagent.out"; then
  echo "repro: ok, two arm64 builds are identical ($(sha256sum < "$a/medagent" | cut -c1-16)…, $(stat -c %s "$a/medagent") bytes)"
else
  echo "repro: FAIL: two builds of the same commit differ" >&2
  exit 1
fi
