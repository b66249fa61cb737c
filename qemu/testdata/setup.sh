#!/bin/sh
# QEMU bench only (medagent-bench-setup.service, every boot, as root, before
# the agent starts): the TMP117 that the agent reads through /dev/i2c-N is
# the kernel's i2c-stub at 0x48 with its Device_ID register set (SMBus words
# go low byte first, the TMP117 sends high byte first: 0x0117 is written
# 0x1701), and tmp117-chip, which does the conversions i2c-stub cannot, with
# the body temperature (a result register value) in /run/medagent-bench/temp.
. /data/test/bench.env
bb=/bin/busybox
bus=
for a in /sys/class/i2c-adapter/i2c-*; do
	[ "$(cat "$a/name" 2>/dev/null)" = "SMBus stub driver" ] && bus=${a##*/i2c-}
done
if [ -z "$bus" ]; then
	echo "BENCH: setup: no i2c-stub adapter (modules-load.d/medagent-bench.conf)" >/dev/ttyAMA0
	exit 1
fi
$bb i2cset -y "$bus" 0x48 0x0f 0x1701 w
mkdir -p /run/medagent-bench
echo "$TEMP_NORMAL" >/run/medagent-bench/temp
# Beside the agent for the whole boot (this unit stays active).
/data/test/tmp117-chip "/dev/i2c-$bus" 0x48 /run/medagent-bench/temp </dev/null >/dev/ttyAMA0 2>&1 &
echo "BENCH: setup: TMP117 on i2c-$bus at 0x48, id $($bb i2cget -y "$bus" 0x48 0x0f w)" >/dev/ttyAMA0
