// Package qemu holds the QEMU arm64 bench image of medagent and its tests.
// build-image.sh assembles a systemd root file system from Debian's arm64
// packages with medagent's units, users, directories, udev rules and
// product configuration from configs/ (the files the Yocto layer installs),
// Debian's kernel with two modules kmod.sh builds, Debian's u-boot-qemu and
// the boot script of yocto-layer/meta-medagent, in an A/B disk. test.sh
// builds it and runs the tests in this package (build tag qemu): the boot
// script's torn-write matrix under U-Boot, and one boot sequence of the
// image as shipped under qemu-system-aarch64 with a software TPM, checked
// from the serial console, a mosquitto on the host, the guest hook's
// reports and fw_printenv on the disk afterwards.
package qemu
