#!/bin/bash
# Builds the medagent QEMU arm64 bench image without Yocto and without root
# mounts: Debian's arm64 kernel and busybox-static, Debian's u-boot-qemu,
# the static arm64 agent, and meta-medagent's A/B layout and boot script.
#
# usage: qemu/build-image.sh [--out DIR] [--release NAME] [--rootfs-only] [--broken]
#   --out DIR       output directory (default qemu/out)
#   --release NAME  release string written to /etc/medagent-release (default A)
#   --rootfs-only   build only DIR/rootfs-NAME.ext4 (an update payload)
#   --broken        the agent in this rootfs fails at start (for rollback tests)
# Output: DIR/disk.img (boot FAT | rootfs A | rootfs B | data), DIR/u-boot.bin,
#         DIR/rootfs-NAME.ext4.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
layer=$repo/yocto-layer/meta-medagent
out=$here/out
release=A
rootfs_only=0
broken=0
while [ $# -gt 0 ]; do
	case $1 in
	--out) out=$2; shift 2 ;;
	--release) release=$2; shift 2 ;;
	--rootfs-only) rootfs_only=1; shift ;;
	--broken) broken=1; shift ;;
	*) echo "build-image: unknown argument $1" >&2; exit 2 ;;
	esac
done

# Partition sizes in MiB; the layout matches meta-medagent's wic/medagent-ab.wks.in.
BOOT_MB=16 ROOT_MB=96 DATA_MB=160

need() { # need TOOL PACKAGE
	command -v "$1" >/dev/null 2>&1 || { echo "build-image: $1 not found: apt-get install $2" >&2; exit 1; }
}
need mkimage u-boot-tools
need mkenvimage u-boot-tools
need mkfs.ext4 e2fsprogs
need mkfs.vfat dosfstools
need mcopy mtools
need sfdisk fdisk
need cpio cpio
need qemu-aarch64-static qemu-user-static
need go "Go (/usr/local/go/bin in PATH)"
UBOOT=/usr/lib/u-boot/qemu_arm64/u-boot.bin
[ -f $UBOOT ] || { echo "build-image: $UBOOT missing: apt-get install u-boot-qemu" >&2; exit 1; }

mkdir -p "$out"
cache=$out/cache
work=$out/work-$release
rm -rf "$work"
mkdir -p "$cache/lists/partial" "$cache/archives/partial" "$cache/debs" "$work"

# Debian arm64 packages through a private package list (this machine is amd64).
apt_o=(-oAPT::Architecture=arm64 -oAPT::Architectures=arm64 "-oDir::State::Lists=$cache/lists" "-oDir::Cache=$cache")
fetch() { # fetch PACKAGE: the .deb lands in $cache/debs
	if ! ls "$cache/debs/$1"_*.deb >/dev/null 2>&1; then
		(cd "$cache/debs" && apt-get "${apt_o[@]}" download "$1") >"$cache/apt.log" 2>&1 || {
			echo "build-image: cannot download arm64 package $1 (see $cache/apt.log); needs network access to Debian's archive" >&2
			exit 1
		}
	fi
}
if [ ! -s "$cache/kernel-package" ]; then
	apt-get "${apt_o[@]}" update >"$cache/apt.log" 2>&1 || { echo "build-image: apt-get update for arm64 failed (see $cache/apt.log)" >&2; exit 1; }
	apt-cache "${apt_o[@]}" depends linux-image-arm64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*-arm64\)$/\1/p' | head -1 >"$cache/kernel-package"
fi
kpkg=$(cat "$cache/kernel-package")
[ -n "$kpkg" ] || { echo "build-image: no arm64 kernel package found behind linux-image-arm64" >&2; exit 1; }
fetch "$kpkg"
fetch busybox-static
kver=${kpkg#linux-image-}

# Kernel Image and the modules the initramfs loads.
kx=$work/kernel
mkdir -p "$kx"
dpkg-deb -x "$cache/debs/$kpkg"_*.deb "$kx"
dpkg-deb -x "$cache/debs"/busybox-static_*.deb "$work/bb"
busybox=$work/bb/bin/busybox
[ -f "$kx/boot/vmlinuz-$kver" ] || { echo "build-image: $kpkg has no /boot/vmlinuz-$kver" >&2; exit 1; }

initrd=$work/initrd
mkdir -p "$initrd/bin" "$initrd/lib/modules"
cp "$busybox" "$initrd/bin/busybox"
cp "$here/initramfs/init" "$initrd/init"
for m in virtio_mmio virtio_blk failover net_failover virtio_net crc16 mbcache jbd2 crc32c_generic ext4 fat vfat nls_cp437 nls_ascii; do
	f=$(find "$kx/lib/modules/$kver" -name "$m.ko" -o -name "$m.ko.xz" | head -1)
	[ -n "$f" ] || { echo "build-image: module $m not in $kpkg" >&2; exit 1; }
	case $f in *.xz) xz -dc "$f" >"$initrd/lib/modules/$m.ko" ;; *) cp "$f" "$initrd/lib/modules/$m.ko" ;; esac
done
(cd "$initrd" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initrd.gz"

# The static arm64 agent of the bench build (simulated sensors on bus sim;
# a device image carries ./cmd/medagent, which links no simulator).
agent=$work/medagent
(cd "$repo" && CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -trimpath -ldflags "-s -w" -o "$agent" ./cmd/medagent-sim)

# Root filesystem.
root=$work/rootfs
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc/medagent,proc,sys,dev,run,tmp,uboot,data,boot,var}
ln -s /run/lock "$root/var/lock"
ln -s /data/medagent "$root/var/lib"
cp "$busybox" "$root/bin/busybox"
for a in $(qemu-aarch64-static "$busybox" --list); do
	[ -e "$root/bin/$a" ] || ln -s busybox "$root/bin/$a"
done
cp "$here/rootfs/init" "$root/sbin/init"
cp "$kx/boot/vmlinuz-$kver" "$root/boot/Image"
cp "$work/initrd.gz" "$root/boot/initrd"
if [ $broken = 1 ]; then
	cat >"$root/usr/bin/medagent" <<'EOF'
#!/bin/sh
case "$1" in
update) exec /usr/bin/medagent.real "$@" ;;
esac
echo "medagent: broken build: refusing to start" >&2
exit 1
EOF
	chmod +x "$root/usr/bin/medagent"
	cp "$agent" "$root/usr/bin/medagent.real"
else
	cp "$agent" "$root/usr/bin/medagent"
fi
cp "$repo/configs/fw_env.config" "$root/etc/fw_env.config"
echo "$release" >"$root/etc/medagent-release"
echo "root:x:0:0:root:/:/bin/sh" >"$root/etc/passwd"
echo "root:x:0:" >"$root/etc/group"

rootimg=$out/rootfs-$release.ext4
rm -f "$rootimg"
mkfs.ext4 -q -F -L "root$release" -E root_owner=0:0 -d "$root" "$rootimg" ${ROOT_MB}M
echo "build-image: $rootimg"
if [ $rootfs_only = 1 ]; then
	rm -rf "$work"
	exit 0
fi

# Boot partition: boot.scr (boot.cmd with machine.conf's device names) and
# the two copies of the U-Boot environment (redundant layout: mkenvimage -r
# writes flag 1 into both; equal flags make the first copy current).
"$here/boot-script.sh" "$here/machine.conf" "$work"
# shellcheck disable=SC1091
. "$here/machine.conf"
printf '%s\n' mender_boot_part=$MEDAGENT_ROOT_PART_A mender_boot_part_hex=$(printf %x $MEDAGENT_ROOT_PART_A) \
	upgrade_available=0 bootcount=0 bootlimit=1 >"$work/env.txt"
mkenvimage -r -s $MEDAGENT_ENV_SIZE -o "$work/$MEDAGENT_ENV_FILE1" "$work/env.txt"
cp "$work/$MEDAGENT_ENV_FILE1" "$work/$MEDAGENT_ENV_FILE2"
bootimg=$work/boot.vfat
mkfs.vfat -C -n BOOT "$bootimg" $((BOOT_MB * 1024)) >/dev/null
mcopy -i "$bootimg" "$work/boot.scr" "$work/$MEDAGENT_ENV_FILE1" "$work/$MEDAGENT_ENV_FILE2" ::/

dataimg=$work/data.ext4
mkdir -p "$work/data/medagent"
mkfs.ext4 -q -F -L data -E root_owner=0:0 -d "$work/data" "$dataimg" ${DATA_MB}M

# Partition table on a file, partitions assembled with dd.
disk=$out/disk.img
rm -f "$disk"
total=$((1 + BOOT_MB + 2 * ROOT_MB + DATA_MB))
truncate -s ${total}M "$disk"
sfdisk -q "$disk" <<EOF
label: dos
start=1MiB, size=${BOOT_MB}MiB, type=c, bootable
size=${ROOT_MB}MiB, type=83
size=${ROOT_MB}MiB, type=83
size=${DATA_MB}MiB, type=83
EOF
dd if="$bootimg" of="$disk" bs=1M seek=1 conv=notrunc status=none
dd if="$rootimg" of="$disk" bs=1M seek=$((1 + BOOT_MB)) conv=notrunc status=none
dd if="$rootimg" of="$disk" bs=1M seek=$((1 + BOOT_MB + ROOT_MB)) conv=notrunc status=none
dd if="$dataimg" of="$disk" bs=1M seek=$((1 + BOOT_MB + 2 * ROOT_MB)) conv=notrunc status=none
cp $UBOOT "$out/u-boot.bin"
rm -rf "$work"
echo "build-image: $disk ($total MiB: boot ${BOOT_MB}M, A ${ROOT_MB}M, B ${ROOT_MB}M, data ${DATA_MB}M)"
