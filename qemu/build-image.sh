#!/bin/bash
# Builds the medagent QEMU arm64 bench image without Yocto and without root
# mounts: a Debian bookworm arm64 root file system with systemd as PID 1
# (mmdebstrap, packages extracted and configured with the host's systemd
# tools, no emulation), Debian's arm64 kernel with two modules built for the
# bench (qemu/kmod.sh), Debian's u-boot-qemu, the static arm64 agent, and
# the units, users, directories, udev rules, configuration and manual page
# from configs/ and docs/ (the same files the Yocto layer installs), in
# meta-medagent's A/B layout. Runs as root (mmdebstrap, file ownership).
#
# usage: qemu/build-image.sh [--out DIR] [--force]
# Output in DIR (default qemu/out):
#   disk.img        boot FAT | rootfs A (release 1.0.0) | rootfs B | data
#   u-boot.bin      Debian's qemu_arm64 U-Boot
#   rootfs-B.ext4   release 1.1.0, an update payload
#   rootfs-C.ext4   release 1.2.0 whose agent refuses to start (rollback tests)
#   rootfs-D.ext4   release 1.3.0, the good update after the rollback
#   ids.env         the image's user and group ids (for files on the data partition)
# A build whose inputs (this script, the agent binary, configs/, docs/,
# qemu/bench/, the boot script, the package list) are unchanged is reused
# (DIR/image.stamp); --force rebuilds. Downloads are cached in DIR/cache.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
out=$here/out
force=0
while [ $# -gt 0 ]; do
	case $1 in
	--out) out=$2; shift 2 ;;
	--force) force=1; shift ;;
	*) echo "build-image: unknown argument $1 (usage: build-image.sh [--out DIR] [--force])" >&2; exit 2 ;;
	esac
done

# Partition sizes in MiB; the layout matches meta-medagent's wic/medagent-ab.wks.in.
BOOT_MB=16 ROOT_MB=192 DATA_MB=160

need() { # need TOOL PACKAGE
	command -v "$1" >/dev/null 2>&1 || { echo "build-image: $1 not found: apt-get install $2" >&2; exit 1; }
}
PATH=$PATH:/usr/sbin:/sbin
need mkimage u-boot-tools
need mkenvimage u-boot-tools
need mkfs.ext4 e2fsprogs
need mkfs.vfat dosfstools
need mcopy mtools
need sfdisk fdisk
need cpio cpio
need mmdebstrap mmdebstrap
need systemd-sysusers systemd
need depmod kmod
need xz xz-utils
[ "$(id -u)" = 0 ] || { echo "build-image: run as root (the image's files belong to its users)" >&2; exit 1; }
need go "Go (/usr/local/go/bin in PATH)"
UBOOT=/usr/lib/u-boot/qemu_arm64/u-boot.bin
[ -f $UBOOT ] || { echo "build-image: $UBOOT missing: apt-get install u-boot-qemu" >&2; exit 1; }

mkdir -p "$out"
cache=$out/cache
work=$out/work
mkdir -p "$cache/lists/partial" "$cache/archives/partial" "$cache/debs"

# The static arm64 agent of the bench build: the device binary's code with
# the simulators linked in (the ADS1292R has no kernel stand-in, so the
# bench's ECG is simulated; every other sensor is read through the guest
# kernel). A device image carries ./cmd/medagent, which links none.
agent=$cache/medagent-arm64
(cd "$repo" && CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -trimpath -buildvcs=false -ldflags "-s -w -buildid=" -o "$agent.tmp" ./cmd/medagent-sim)
mv "$agent.tmp" "$agent"

# Root file system: Debian's packages, extracted (cached per package list).
pkgs=systemd,systemd-sysv,udev,base-files,base-passwd,dash,bash,coreutils,util-linux,mount,kmod,procps,sed,grep,findutils,usr-is-merged,busybox-static,libubootenv-tool,man-db
suite=bookworm

stamp=$( (cat "$0" "$here/kmod.sh" "$here/boot-script.sh" "$here/machine.conf" "$agent" \
	"$repo/yocto-layer/meta-medagent/recipes-bsp/medagent-boot-script/files/boot.cmd" "$repo/docs/medagent.1"
	echo "$suite $pkgs"
	cd "$repo" && find configs qemu/bench -type f ! -name '*_test.go' | LC_ALL=C sort | xargs sha256sum) | sha256sum | cut -c1-32)
if [ $force = 0 ] && [ "$(cat "$out/image.stamp" 2>/dev/null)" = "$stamp" ] &&
	[ -f "$out/disk.img" ] && [ -f "$out/rootfs-B.ext4" ] && [ -f "$out/rootfs-C.ext4" ] && [ -f "$out/rootfs-D.ext4" ]; then
	echo "build-image: $out is up to date (inputs unchanged; --force rebuilds)"
	exit 0
fi
rm -f "$out/image.stamp"
rm -rf "$work"
mkdir -p "$work"

# Debian arm64 packages through a private package list (this machine is amd64).
apt_o=(-oAPT::Architecture=arm64 -oAPT::Architectures=arm64 "-oDir::State::Lists=$cache/lists" "-oDir::Cache=$cache")
if [ ! -s "$cache/kernel-package" ]; then
	apt-get "${apt_o[@]}" update >"$cache/apt.log" 2>&1 || { echo "build-image: apt-get update for arm64 failed (see $cache/apt.log)" >&2; exit 1; }
	apt-cache "${apt_o[@]}" depends linux-image-arm64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*-arm64\)$/\1/p' | head -1 >"$cache/kernel-package"
fi
kpkg=$(cat "$cache/kernel-package")
[ -n "$kpkg" ] || { echo "build-image: no arm64 kernel package found behind linux-image-arm64" >&2; exit 1; }
if ! ls "$cache/debs/$kpkg"_*.deb >/dev/null 2>&1; then
	(cd "$cache/debs" && apt-get "${apt_o[@]}" download "$kpkg") >"$cache/apt.log" 2>&1 ||
		{ echo "build-image: cannot download $kpkg (see $cache/apt.log); needs Debian's archive" >&2; exit 1; }
fi
kver=${kpkg#linux-image-}
kx=$work/kernel
mkdir -p "$kx"
dpkg-deb -x "$cache/debs/$kpkg"_*.deb "$kx"
[ -f "$kx/boot/vmlinuz-$kver" ] || { echo "build-image: $kpkg has no /boot/vmlinuz-$kver" >&2; exit 1; }
"$here/kmod.sh" "$cache" "$kpkg"

# Merged /usr (/bin, /sbin, /lib links into /usr), as bookworm installs
# it: an extracted system runs no usrmerge, and systemd would call an
# unmerged one tainted. mmdebstrap's own merged-usr hook makes the links
# before the packages are extracted.
mmhooks=/usr/share/mmdebstrap/hooks/merged-usr
[ -d "$mmhooks" ] || { echo "build-image: $mmhooks not found: apt-get install mmdebstrap (1.x)" >&2; exit 1; }
tarball=$cache/rootfs-$(echo "$suite $pkgs merged-usr" | sha256sum | cut -c1-16).tar
if [ ! -s "$tarball" ]; then
	mmdebstrap --quiet --mode=root --format=tar --variant=extract --architectures=arm64 --include="$pkgs" --hook-dir="$mmhooks" \
		$suite "$tarball.tmp" http://deb.debian.org/debian >"$cache/mmdebstrap.log" 2>&1 ||
		{ echo "build-image: mmdebstrap failed (see $cache/mmdebstrap.log)" >&2; exit 1; }
	mv "$tarball.tmp" "$tarball"
fi
root=$work/rootfs
mkdir -p "$root"
tar -C "$root" -xf "$tarball"
find "$root/usr/share/man" -mindepth 1 -delete
# udev's hardware database sources: only systemd-hwdb compiles them, which
# the image masks (/usr/lib/udev/hwdb.d, 9 MB).
rm -rf "$root"/usr/share/{doc,locale,info,lintian,zsh,bash-completion,common-licenses,groff/*/font/devpdf} \
	"$root"/usr/lib/aarch64-linux-gnu/gconv "$root"/usr/lib/udev/hwdb.d "$root"/var/cache/* "$root"/var/lib/apt/lists/*
for d in bin sbin lib; do
	[ "$(readlink "$root/$d")" = "usr/$d" ] || { echo "build-image: /$d is not merged into /usr (mmdebstrap's merged-usr hook)" >&2; exit 1; }
done
# What base-files' and systemd's maintainer scripts would do (an
# extracted file system runs none): /etc/mtab, /var/run and /var/lock as
# links into /run.
ln -sf ../proc/self/mounts "$root/etc/mtab"
rm -rf "$root/var/run" "$root/var/lock"
ln -s /run "$root/var/run"
ln -s /run/lock "$root/var/lock"

# Initramfs: busybox and the few modules the root file system needs
# (Debian builds virtio, ext4 and vfat as modules).
initrd=$work/initrd
mkdir -p "$initrd/bin" "$initrd/lib/modules"
cp "$root/bin/busybox" "$initrd/bin/busybox"
cp "$here/initramfs/init" "$initrd/init"
boot_mods="virtio_mmio virtio_blk failover net_failover virtio_net crc16 mbcache jbd2 crc32c_generic ext4 fat vfat nls_cp437 nls_ascii"
for m in $boot_mods; do
	f=$(find "$kx/lib/modules/$kver" -name "$m.ko" -o -name "$m.ko.xz" | head -1)
	[ -n "$f" ] || { echo "build-image: module $m not in $kpkg" >&2; exit 1; }
	case $f in *.xz) xz -dc "$f" >"$initrd/lib/modules/$m.ko" ;; *) cp "$f" "$initrd/lib/modules/$m.ko" ;; esac
done
(cd "$initrd" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initrd.gz"

# medagent: the binary, units, tmpfiles, udev rules, product configuration,
# manual page (one source with the Yocto layer: configs/ and docs/).
cp "$agent" "$root/usr/bin/medagent"
sysd=$root/usr/lib/systemd/system
for u in medagent-acquire.service medagent-uplink.service medagent.service medagent-reboot.path medagent-reboot.service medagent-datadir.service; do
	install -m0644 "$repo/configs/systemd/$u" "$sysd/$u"
done
install -D -m0644 "$repo/configs/systemd/medagent.sysusers" "$root/usr/lib/sysusers.d/medagent.conf"
install -D -m0644 "$repo/configs/systemd/medagent.conf.tmpfiles" "$root/usr/lib/tmpfiles.d/medagent.conf"
install -D -m0644 "$repo/configs/systemd/medagent.modules-load" "$root/usr/lib/modules-load.d/medagent.conf"
install -D -m0644 "$repo/configs/udev/60-medagent.rules" "$root/usr/lib/udev/rules.d/60-medagent.rules"
install -D -m0644 "$repo/configs/medagent.yaml" "$root/etc/medagent/medagent.yaml"
install -m0644 "$repo/configs/fw_env.config" "$root/etc/fw_env.config"
install -D -m0644 "$repo/docs/medagent.1" "$root/usr/share/man/man1/medagent.1"
# The bench board (qemu/bench holds what only the QEMU image has): its disk
# names, network, journal on the console, kernel modules, the bench
# technician, the hooks a test puts on the data partition.
cp -r "$here/bench/rootfs/." "$root/"
# Users and groups: the base system's, then the sysusers files (Debian's,
# medagent's, the bench's), applied on the host.
cp "$root/usr/share/base-passwd/passwd.master" "$root/etc/passwd"
cp "$root/usr/share/base-passwd/group.master" "$root/etc/group"
: >"$root/etc/shadow"; : >"$root/etc/gshadow"; chmod 0640 "$root/etc/shadow" "$root/etc/gshadow"
systemd-sysusers --root="$root" >/dev/null
acqgid=$(sed -n 's/^medagent-acq:[^:]*:\([0-9]*\):.*/\1/p' "$root/etc/group")
sed -i "s/@ACQGID@/$acqgid/" "$root/etc/fstab"
echo medagent-qemu >"$root/etc/hostname"
: >"$root/etc/machine-id"
mkdir -p "$root/uboot" "$root/data" "$root/var/lib/medagent"
systemctl --root="$root" enable medagent-acquire.service medagent-uplink.service medagent-reboot.path medagent-datadir.service \
	systemd-networkd.service medagent-bench-setup.service medagent-bench-hook.service medagent-bench-banner.service >/dev/null 2>&1
# What a sensor board does not run (and what costs minutes under emulation).
systemctl --root="$root" mask getty.target serial-getty@hvc0.service systemd-timesyncd.service systemd-update-utmp.service \
	systemd-update-utmp-runlevel.service systemd-random-seed.service systemd-journal-flush.service systemd-tmpfiles-clean.timer \
	systemd-network-generator.service systemd-pcrphase.service systemd-pcrphase-sysinit.service systemd-hwdb-update.service \
	systemd-update-done.service systemd-firstboot.service systemd-sysusers.service systemd-machine-id-commit.service \
	systemd-binfmt.service proc-sys-fs-binfmt_misc.automount ldconfig.service man-db.timer man-db.service \
	apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer >/dev/null 2>&1
for u in medagent-acq medagent-up tech; do
	echo "uid_${u//-/_}=$(sed -n "s/^$u:[^:]*:\([0-9]*\):.*/\1/p" "$root/etc/passwd")"
done >"$work/ids.env"
for g in medagent-acq medagent-up medagent medtech; do
	echo "gid_${g//-/_}=$(sed -n "s/^$g:[^:]*:\([0-9]*\):.*/\1/p" "$root/etc/group")"
done >>"$work/ids.env"
grep -q '=$' "$work/ids.env" && { echo "build-image: a user or group is missing:" >&2; cat "$work/ids.env" >&2; exit 1; }

# Kernel: Image and initrd in /boot (the boot script loads them), and the
# modules the board needs, with the two built for the bench.
cp "$kx/boot/vmlinuz-$kver" "$root/boot/Image"
cp "$work/initrd.gz" "$root/boot/initrd"
md=$root/lib/modules/$kver
mkdir -p "$md/kernel" "$md/extra"
for m in $boot_mods i2c-dev tpm tpm_tis_core virtio_console virtio-rng rng-core autofs4 rtc-pl031 usb-common usbcore usbserial cdc-acm; do
	f=$(cd "$kx/lib/modules/$kver" && find kernel -name "$m.ko" -o -name "$m.ko.xz" | head -1)
	[ -n "$f" ] || continue
	mkdir -p "$md/$(dirname "$f")"
	case $f in *.xz) xz -dc "$kx/lib/modules/$kver/$f" >"$md/${f%.xz}" ;; *) cp "$kx/lib/modules/$kver/$f" "$md/$f" ;; esac
done
cp "$kx/lib/modules/$kver/modules.builtin" "$kx/lib/modules/$kver/modules.builtin.modinfo" "$kx/lib/modules/$kver/modules.order" "$md/"
cp "$cache/kmod-$kver/tpm_tis.ko" "$cache/kmod-$kver/i2c-stub.ko" "$md/extra/"
depmod -b "$root" "$kver"

# The four releases: A on the disk, B an update, C a broken update (its
# agent refuses to start, so the acquire unit's start limit reboots the
# board and U-Boot falls back), D the good update a board that rolled back
# must still take. The file system is as big as its content
# plus a margin (an update streams only that much); slots are ROOT_MB.
size=$(( $(du -sm "$root" | cut -f1) * 5 / 4 + 16 ))
[ $size -le $ROOT_MB ] || { echo "build-image: root file system needs ${size} MiB, slots have ${ROOT_MB}" >&2; exit 1; }
mkrootfs() { # mkrootfs NAME RELEASE
	echo "$2" >"$root/etc/medagent-release"
	# The running artifact's name, as meta-mender's images carry it (the
	# uplink's Mender client reads mender.artifact_info): the name the test
	# gives the artifact of this release (mender-artifact write -n).
	mkdir -p "$root/etc/mender"
	printf 'artifact_name=medagent-%s\n' "$2" >"$root/etc/mender/artifact_info"
	rm -f "$out/rootfs-$1.ext4"
	mkfs.ext4 -q -F -L "root$1" -d "$root" "$out/rootfs-$1.ext4" ${size}M
}
mkrootfs A 1.0.0
mkrootfs B 1.1.0
mkrootfs D 1.3.0
mv "$root/usr/bin/medagent" "$root/usr/bin/medagent.real"
cat >"$root/usr/bin/medagent" <<'EOS'
#!/bin/sh
# Release 1.2.0 of the bench: a build whose agent cannot start.
case "$1" in
run) echo "medagent: broken build: refusing to start" >&2; exit 1 ;;
esac
exec /usr/bin/medagent.real "$@"
EOS
chmod 0755 "$root/usr/bin/medagent"
mkrootfs C 1.2.0

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

# The data partition of a new board: empty (the test provisions its own).
dataimg=$work/data.ext4
mkdir -p "$work/data"
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
dd if="$out/rootfs-A.ext4" of="$disk" bs=1M seek=$((1 + BOOT_MB)) conv=notrunc status=none
dd if="$out/rootfs-A.ext4" of="$disk" bs=1M seek=$((1 + BOOT_MB + ROOT_MB)) conv=notrunc status=none
dd if="$dataimg" of="$disk" bs=1M seek=$((1 + BOOT_MB + 2 * ROOT_MB)) conv=notrunc status=none
cp $UBOOT "$out/u-boot.bin"
cp "$work/ids.env" "$out/ids.env"
rm -rf "$work" "$out/rootfs-A.ext4"
echo "$stamp" >"$out/image.stamp"
echo "build-image: $disk ($total MiB: boot ${BOOT_MB}M, A ${ROOT_MB}M, B ${ROOT_MB}M, data ${DATA_MB}M; rootfs ${size} MiB), rootfs-B.ext4, rootfs-C.ext4, rootfs-D.ext4"
