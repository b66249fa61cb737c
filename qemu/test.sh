#!/bin/bash
# Boots the QEMU arm64 bench image and checks, from the serial console and
# from a mosquitto on the host, that the agent publishes over mutual TLS,
# that an update to release B is installed, booted on trial and committed,
# that a broken update (release C, agent does not start) rolls back, and
# that a further update (release D) after the rollback is committed.
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
if [ ! -w /dev/kvm ]; then
	echo "qemu-test: no usable /dev/kvm (and an amd64 host cannot accelerate arm64 anyway): software emulation, the whole cycle takes several minutes" >&2
fi
if [ $build = 1 ]; then
	"$here/build-image.sh" --out "$out" --release A
	"$here/build-image.sh" --out "$out" --release B --rootfs-only
	"$here/build-image.sh" --out "$out" --release C --rootfs-only --broken
	"$here/build-image.sh" --out "$out" --release D --rootfs-only
fi
cd "$repo"
# The boot script under Debian's U-Boot alone (no kernel): the torn-write
# matrix of the redundant environment, about 100 U-Boot boots, 2-4 minutes.
start=$(date +%s)
go test -tags qemu -count=1 -timeout 30m -run TestBootScriptTornEnv ./qemu/
echo "qemu-test: boot script torn-write matrix passed in $(($(date +%s) - start)) s"
start=$(date +%s)
MEDAGENT_QEMU_OUT=$out go test -tags qemu -count=1 -v -timeout 60m -run TestBootPublishUpdateRollback ./qemu/
echo "qemu-test: passed in $(($(date +%s) - start)) s (serial console: $out/serial.log)"
