// Package slot knows the two root filesystem slots of an A/B device: which one
// is running, which one is inactive, and how to stream an update payload into
// the inactive one safely.
//
// The running slot comes only from positive evidence: the boot loader's
// medagent.slot=a|b on the kernel command line, a root= (device or
// PARTUUID=) that names a slot device, or the device numbers of "/"
// compared with the slot block devices; contradicting evidence is refused.
// Never from the boot environment: mender_boot_part says which slot should
// boot next, and between an install and its reboot that is not the running
// one. Write streams a
// payload into a slot (a block device, or a preallocated regular file in
// tests and benchmarks) with a SHA-256 computed on the way, an fsync every
// FlushEvery bytes (so a power cut loses at most that much and the page cache
// never holds a whole rootfs), a size check before the first byte, and a
// read-back SHA-256 after the final fsync compared with the streamed digest.
package slot
