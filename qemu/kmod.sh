#!/bin/bash
# Builds the two kernel modules the bench needs and Debian's arm64 kernel
# does not ship (CONFIG_TCG_TIS and CONFIG_I2C_STUB are off): tpm_tis (the
# TIS MMIO driver behind QEMU's tpm-tis-device) and i2c-stub (the I2C bus the
# TMP117 driver talks to). Out of tree, against Debian's own headers for the
# same kernel ABI, with Debian's cross compiler and the amd64 kbuild tools;
# the sources are the two .c files of Debian's linux-source of the same version.
#
# usage: qemu/kmod.sh CACHE KPKG      (KPKG: linux-image-<abi>-arm64)
# Output: CACHE/kmod-<abi>/{tpm_tis.ko,i2c-stub.ko}
set -euo pipefail
cache=$1 kpkg=$2
abi=${kpkg#linux-image-}
outd=$cache/kmod-$abi
[ -f "$outd/tpm_tis.ko" ] && [ -f "$outd/i2c-stub.ko" ] && exit 0
command -v aarch64-linux-gnu-gcc >/dev/null || { echo "kmod: aarch64-linux-gnu-gcc not found: apt-get install gcc-aarch64-linux-gnu" >&2; exit 1; }

apt_o=(-oAPT::Architecture=arm64 "-oAPT::Architectures::=arm64" "-oAPT::Architectures::=amd64"
	"-oDir::State::Lists=$cache/lists-kmod" "-oDir::Cache=$cache")
mkdir -p "$cache/lists-kmod/partial" "$cache/kmod-debs"
if [ ! -f "$cache/lists-kmod/.done" ]; then
	apt-get "${apt_o[@]}" update >"$cache/kmod-apt.log" 2>&1 || { echo "kmod: apt-get update failed (see $cache/kmod-apt.log)" >&2; exit 1; }
	touch "$cache/lists-kmod/.done"
fi
ver=$(apt-cache "${apt_o[@]}" show "$kpkg:arm64" | sed -n 's/^Version: //p' | head -1)
major=$(echo "$abi" | sed 's/^\([0-9]*\.[0-9]*\).*/\1/')
[ -n "$ver" ] || { echo "kmod: no version of $kpkg" >&2; exit 1; }
common=linux-headers-${abi%-arm64}-common
get() { # get PKG:ARCH=VER
	local name=${1%%:*}
	ls "$cache/kmod-debs/${name}_"*.deb >/dev/null 2>&1 && return 0
	(cd "$cache/kmod-debs" && apt-get "${apt_o[@]}" download "$1") >>"$cache/kmod-apt.log" 2>&1 || {
		echo "kmod: cannot download $1 (see $cache/kmod-apt.log)" >&2; exit 1; }
}
get "linux-headers-$abi:arm64=$ver"
get "$common:all=$ver"
get "linux-kbuild-$major:amd64=$ver"
get "linux-source-$major:all=$ver"

w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
for d in "$cache/kmod-debs/linux-headers-${abi}_"*.deb "$cache/kmod-debs/${common}_"*.deb "$cache/kmod-debs/linux-kbuild-${major}_"*.deb; do
	dpkg-deb -x "$d" "$w/root"
done
# The headers name /usr/src and /usr/lib absolutely: point them into $w.
sed -i "s#/usr/src/#$w/root/usr/src/#" "$w/root/usr/src/linux-headers-$abi/Makefile"
mkdir -p "$w/src"
dpkg-deb --fsys-tarfile "$cache/kmod-debs/linux-source-${major}_"*.deb |
	tar -xO "./usr/src/linux-source-$major.tar.xz" | xz -dc |
	tar -x -C "$w/src" --wildcards "linux-source-$major/drivers/i2c/i2c-stub.c" \
		"linux-source-$major/drivers/char/tpm/tpm_tis.c" "linux-source-$major/drivers/char/tpm/*.h"
mkdir -p "$w/m"
cp "$w/src/linux-source-$major/drivers/i2c/i2c-stub.c" "$w/src/linux-source-$major/drivers/char/tpm/tpm_tis.c" \
	"$w/src/linux-source-$major/drivers/char/tpm/"*.h "$w/m/"
echo 'obj-m := i2c-stub.o tpm_tis.o' >"$w/m/Kbuild"
make -s -C "$w/root/usr/src/linux-headers-$abi" M="$w/m" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- modules >"$cache/kmod-build.log" 2>&1 ||
	{ echo "kmod: module build failed (see $cache/kmod-build.log)" >&2; exit 1; }
mkdir -p "$outd"
cp "$w/m/tpm_tis.ko" "$w/m/i2c-stub.ko" "$outd/"
echo "kmod: built tpm_tis.ko and i2c-stub.ko for $abi"
