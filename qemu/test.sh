#!/bin/bash
# make qemu-test: the boot script's torn-write matrix under Debian's U-Boot
# and, beside it (the matrix mostly waits on its U-Boot boots), the bench
# image's build and one boot sequence of the systemd bench image as shipped
# (qemu/boot_test.go, TestShippedImage):
# both roles as their own users, telemetry over mutual TLS with the key in
# a TPM, sensors through i2c-stub and a guest tty, a certificate not yet
# valid, a signed update from the fleet committed by the agent's own
# checks, a broken one rolled back; checked from the serial console, a
# mosquitto on the host, the hook's reports and fw_printenv afterwards.
#
# usage: qemu/test.sh [--no-build]     (serial console: qemu/out/serial.log)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
out=${MEDAGENT_QEMU_OUT:-$here/out}
build=1
[ "${1:-}" = --no-build ] && build=0

command -v qemu-system-aarch64 >/dev/null || { echo "qemu-test: qemu-system-aarch64 not found: apt-get install qemu-system-arm" >&2; exit 1; }
command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || { echo "qemu-test: mosquitto not found: apt-get install mosquitto" >&2; exit 1; }
command -v mender-artifact >/dev/null || { echo "qemu-test: mender-artifact not found: apt-get install mender-artifact" >&2; exit 1; }
command -v swtpm >/dev/null || { echo "qemu-test: swtpm not found: apt-get install swtpm" >&2; exit 1; }
if [ ! -w /dev/kvm ]; then
	echo "qemu-test: no usable /dev/kvm (and an amd64 host cannot accelerate arm64 anyway): software emulation, the boot sequence takes many minutes" >&2
fi
cd "$repo"
mkdir -p "$out"
t0=$(date +%s)
# The matrix in the background, its output in OUT/torn.log.
(
	s=$(date +%s)
	rc=0
	go test -tags qemu -count=1 -timeout 30m -run TestBootScriptTornEnv ./qemu/ >"$out/torn.log" 2>&1 || rc=$?
	echo "qemu-test: boot script torn-write matrix: exit $rc in $(($(date +%s) - s)) s" >>"$out/torn.log"
	exit $rc
) &
tpid=$!
matrix() { # matrix: wait for the matrix, print its result, fail if it failed
	if wait $tpid; then
		tail -2 "$out/torn.log"
	else
		cat "$out/torn.log" >&2
		echo "qemu-test: boot script torn-write matrix failed" >&2
		return 1
	fi
}
if [ $build = 1 ]; then
	start=$(date +%s)
	if ! "$here/build-image.sh" --out "$out" >"$out/build.log" 2>&1; then
		cat "$out/build.log" >&2
		echo "qemu-test: building the image failed" >&2
		matrix || true
		exit 1
	fi
	tail -1 "$out/build.log"
	echo "qemu-test: image built in $(($(date +%s) - start)) s"
fi
start=$(date +%s)
rc=0
MEDAGENT_QEMU_OUT=$out go test -tags qemu -count=1 -v -timeout 120m -run TestShippedImage ./qemu/ || rc=$?
echo "qemu-test: boot sequence: exit $rc in $(($(date +%s) - start)) s (serial console: $out/serial.log, the guest's reports: $out/reports)"
matrix || rc=1
echo "qemu-test: whole qemu-test $(($(date +%s) - t0)) s, exit $rc"
exit $rc
