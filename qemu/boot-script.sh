#!/bin/bash
# Renders meta-medagent's boot.cmd with a machine's values and compiles it.
# usage: qemu/boot-script.sh MACHINE_CONF OUT_DIR
# MACHINE_CONF holds NAME=VALUE lines for every @@NAME@@ of boot.cmd (see
# qemu/machine.conf); the *_HEX partition numbers are derived. Writes
# OUT_DIR/boot.cmd (rendered) and OUT_DIR/boot.scr.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")/yocto-layer/meta-medagent/recipes-bsp/medagent-boot-script/files/boot.cmd
conf=$1 out=$2
command -v mkimage >/dev/null || { echo "boot-script: mkimage not found: apt-get install u-boot-tools" >&2; exit 1; }
# shellcheck disable=SC1090
. "$conf"
MEDAGENT_ROOT_PART_A_HEX=$(printf '%x' "$MEDAGENT_ROOT_PART_A")
MEDAGENT_ROOT_PART_B_HEX=$(printf '%x' "$MEDAGENT_ROOT_PART_B")
mkdir -p "$out"
args=()
for v in $(grep -o '@@[A-Z0-9_]*@@' "$src" | sort -u | tr -d @); do
	[ -n "${!v:-}" ] || { echo "boot-script: $conf does not set $v" >&2; exit 1; }
	args+=(-e "s|@@$v@@|${!v}|g")
done
sed "${args[@]}" "$src" >"$out/boot.cmd"
mkimage -A arm64 -O linux -T script -C none -n medagent-boot -d "$out/boot.cmd" "$out/boot.scr" >/dev/null
