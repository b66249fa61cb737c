// Package qemu holds the QEMU arm64 bench image of medagent and its boot
// test. build-image.sh assembles the A/B disk from Debian's arm64 kernel and
// busybox-static, Debian's u-boot-qemu, the static agent and the boot script
// of yocto-layer/meta-medagent; test.sh builds it and runs the test in this
// package (build tag qemu), which boots the disk under qemu-system-aarch64,
// watches the serial console and a mosquitto on the host, and drives two
// updates through the data partition's hook.
package qemu
