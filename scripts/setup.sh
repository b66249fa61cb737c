#!/usr/bin/env bash
# Installs, from Debian's packages, every tool medagent's tests and demo use,
# when it is missing. Safe to run again: it installs nothing already present.
set -euo pipefail

# command -> Debian package that provides it
declare -A need=(
  [mosquitto]=mosquitto
  [mosquitto_pub]=mosquitto-clients
  [mender-artifact]=mender-artifact
  [fw_printenv]=libubootenv-tool
  [mkenvimage]=u-boot-tools
  [qemu-aarch64-static]=qemu-user-static
  [swtpm]=swtpm
  [swtpm_setup]=swtpm-tools
  [tpm2_createprimary]=tpm2-tools
  [openssl]=openssl
  [mkfs.ext4]=e2fsprogs
  [blkid]=util-linux
  [mcopy]=mtools
  [mkfs.vfat]=dosfstools
  [qemu-system-aarch64]=qemu-system-arm
  [sfdisk]=fdisk
  [cpio]=cpio
  # configs/ tests: systemd's own unit security assessment
  [systemd-analyze]=systemd
  # the QEMU bench image (qemu/build-image.sh, qemu/kmod.sh)
  [mmdebstrap]=mmdebstrap
  [depmod]=kmod
  [aarch64-linux-gnu-gcc]=gcc-aarch64-linux-gnu
  [xz]=xz-utils
  # make bench-load, and the timing tests run under load (CPU and I/O hogs)
  [stress-ng]=stress-ng
)

if ! command -v go >/dev/null; then
  echo "setup: Go is not on PATH; install Go 1.26 or newer first (https://go.dev/doc/install)" >&2
  exit 1
fi

missing=()
for cmd in "${!need[@]}"; do
  if ! PATH="$PATH:/usr/sbin:/sbin" command -v "$cmd" >/dev/null; then
    missing+=("${need[$cmd]}")
  fi
done
# Debian's U-Boot for the QEMU arm64 board (a file, not a command).
[ -f /usr/lib/u-boot/qemu_arm64/u-boot.bin ] || missing+=(u-boot-qemu)
[ ${#missing[@]} -eq 0 ] && exit 0

pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
echo "setup: installing Debian packages: $pkgs"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then sudo="sudo"; else
    echo "setup: need root to install: apt-get install -y $pkgs" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
# The tests start their own mosquitto; the packaged service is not needed.
$sudo systemctl disable --now mosquitto >/dev/null 2>&1 || true
echo "setup: done"
