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
// one.
//
// Write streams a payload into a slot (a block device, or a preallocated
// regular file in tests and benchmarks): the caller's goroutine reads (and
// in update/artifact's reader decompresses and hashes) 1 MiB chunks, a
// second goroutine owned by Write writes them, starts the write-back of
// each FlushEvery window with sync_file_range, waits for the previous window
// to reach the media, drops it from the page cache and compares it byte for
// byte with the chunks it still holds. So a power cut loses at most two
// windows, the page cache never holds a whole rootfs, memory stays at about
// two windows, and every byte on the media is checked against what was
// written; the last window is checked after the final fsync. The payload
// size is checked before the first byte. Without Writer.Verified the stream
// is hashed (SHA-256) on the way as well.
package slot
