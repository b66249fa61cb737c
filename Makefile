# medagent: build, test, demo and measure. `make help` lists the targets.
SHELL := /bin/bash
GO ?= go
export CGO_ENABLED := 0
# The Go release every target builds and tests with: 1.26.10 fixes standard
# library vulnerabilities that govulncheck finds reachable in 1.26.8. The go
# command fetches it once from the module proxy (about 10 s). Keep it equal
# to the toolchain line of go.mod and to the Yocto layer's go-release-native.
export GOTOOLCHAIN := go1.26.10

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -buildid= -X medagent/version.Version=$(VERSION) -X medagent/version.Commit=$(COMMIT)
# Smaller device binary: no HTTP/2, inlining only where speed counts (the
# flags and why: scripts/device-buildflags).
DEVFLAGS := $(shell grep -v '^\#' scripts/device-buildflags)
GOBUILD := $(GO) build -trimpath -buildvcs=false $(DEVFLAGS) -ldflags '$(LDFLAGS)'

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
CYCLONEDX   := github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod@v1.10.0
PLATFORMS   := linux/amd64 linux/arm64 linux/arm
DURATION    ?= 0
LOAD_DURATION ?= 2m
# The full PhysioNet databases for the accuracy benchmarks (not in the repository; see README "Data").
MITDB       ?= ../shared/data/mitdb
NSTDB       ?= ../shared/data/nstdb

.PHONY: help all build demo test test-long test-load lint sbom bench bench-load bench-ecg bench-alarms bench-fleet setup clean qemu-image qemu-test man yocto-check

help:
	@echo "make demo       agent on simulated sensors -> local mutual-TLS broker, vitals shown (DURATION=20s to stop)"
	@echo "make test       every test (installs missing Debian tools via scripts/setup.sh)"
	@echo "make test-long  the tests behind the long tag (.ci/run runs them after make test)"
	@echo "make test-load  the real-time tests again under stress-ng --cpu 4 --io 1 (.ci/run runs it; ~90 s)"
	@echo "make build      static device binaries for $(PLATFORMS) into bin/, and the amd64 bench build (simulators)"
	@echo "make lint       gofmt, go vet, staticcheck, govulncheck (database from the module proxy)"
	@echo "make sbom       CycloneDX software bill of materials into bin/"
	@echo "make bench      benchmarks with numbers, against the real peers"
	@echo "make bench-load ECG samples lost, false alarms and base-time drift under stress-ng (LOAD_DURATION=$(LOAD_DURATION); the goal is for 10m)"
	@echo "make bench-ecg  QRS detector Se/+P on the MIT-BIH records in MITDB=$(MITDB)"
	@echo "make bench-fleet  N=100 and N=1000 devices against a 3-node NATS cluster and the Mender test server"
	@echo "make bench-alarms asystole, pause and noise episodes spliced into MITDB records: alarm times, false alarms"
	@echo "make man        write the manual page docs/medagent.1 from the command tree"
	@echo "make qemu-image arm64 A/B bench disk image (Debian arm64 packages, systemd, the shipped units and users)"
	@echo "make qemu-test  boot it under qemu-system-aarch64: roles, TPM, sensors, fleet update, commit, rollback"
	@echo "make yocto-check  parse and dry-run the Yocto layer with poky scarthgap, offline (needs ../shared)"

all: lint build test

build:
	@mkdir -p bin
	@for p in $(PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; out=bin/medagent-$$os-$$arch; [ $$arch = arm ] && out=$${out}v7; \
	  echo "build $$out"; \
	  GOOS=$$os GOARCH=$$arch GOARM=7 $(GOBUILD) -o $$out ./cmd/medagent || exit 1; \
	done
	@echo "build bin/medagent-sim-linux-amd64 (bench build: simulated sensors)"
	@GOOS=linux GOARCH=amd64 $(GOBUILD) -o bin/medagent-sim-linux-amd64 ./cmd/medagent-sim

setup:
	@bash scripts/setup.sh

demo:
	@mkdir -p bin
	@$(GOBUILD) -o bin/medagent-sim ./cmd/medagent-sim
	@$(GO) run ./devtools/demo --agent bin/medagent-sim --dir .demo --duration $(DURATION)

test: setup
	$(GO) test -count=1 -timeout 30m ./...
	@bash scripts/check-repro.sh

# The tests behind the long tag (their names end in Long; .ci/run runs
# them after make test): the 30 s broker outage on mosquitto and the real
# spool, and the three-node NATS cluster down for two minutes; about 3 min.
test-long: setup
	$(GO) test -count=1 -timeout 20m -tags long -run 'Long$$' ./...

# The tests that run in real time (not in a synctest bubble) again under
# stress-ng --cpu 4 --io 1, as issue 12 asks: about 90 s on 2 cores.
test-load: setup
	@bash scripts/test-load.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	@bash scripts/govulncheck.sh

sbom:
	@mkdir -p bin
	$(GO) run $(CYCLONEDX) app -main cmd/medagent -licenses -json -output bin/medagent.cdx.json
	@echo "wrote bin/medagent.cdx.json"

bench: setup build
	@bash bench/run.sh

# N uplinks with their own identities and spools against a 3-node NATS
# cluster (built from the Go module proxy) and the spec-built Mender
# server; about 4 min for N=100 and 10 min for N=1000 on 2 cores.
bench-fleet: setup
	set -o pipefail; $(GO) test -tags fleetbench -count=1 -timeout 60m -run TestFleet -v ./bench/fleet -args -n 100 | grep -E 'RESULT|FAIL|^ok'
	set -o pipefail; $(GO) test -tags fleetbench -count=1 -timeout 60m -run TestFleet -v ./bench/fleet -args -n 1000 | grep -E 'RESULT|FAIL|^ok'

bench-load: setup build
	$(GO) run ./bench/load --agent bin/medagent-sim-linux-amd64 --duration $(LOAD_DURATION)

bench-ecg:
	$(GO) run ./bench/ecg -mitdb $(MITDB) -nstdb $(NSTDB)

bench-alarms:
	$(GO) run ./bench/alarms -mitdb $(MITDB) -nstdb $(NSTDB)

qemu-image: setup
	bash qemu/build-image.sh

qemu-test: setup
	bash qemu/test.sh

yocto-check:
	bash scripts/yocto-check.sh

man:
	$(GO) run ./cmd/medagent help --man > docs/medagent.1
	@echo "wrote docs/medagent.1 (man -l docs/medagent.1 shows it)"

clean:
	rm -rf bin .demo
