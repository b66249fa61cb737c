package slot

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// InvalidateBytes is how much of a slot Invalidate overwrites: the first
// MiB holds the superblock of every file system a root slot uses (ext4 at
// 1 KiB, squashfs and erofs at 0 and 1 KiB, btrfs at 64 KiB, the FAT boot
// sector at 0), so nothing can mount or boot the slot afterwards.
const InvalidateBytes = 1 << 20

// HeldBytes is how much of the start of a payload Writer.Write holds back
// and writes last (the slot's first InvalidateBytes being wiped before the
// first write): it covers every root file system's primary superblock
// (ext4 and erofs at 1 KiB, squashfs, XFS and FAT at 0, F2FS at 1 KiB,
// btrfs at 64 KiB), so a slot whose write was cut short has none.
const HeldBytes = 128 << 10

// Invalidate overwrites the start of the slot dst with zeros (at most
// InvalidateBytes, at most the slot's size) and syncs it: what a failed
// install left there can no longer be booted. The rest is left as it is
// (so that a verify-before-write failure leaves the slot past the bad
// chunk untouched). Writer.Write wipes the same bytes before it writes
// and writes them last.
//
// Why not the slot's last MiB too. What boots or mounts a slot reads the
// primary superblock only: U-Boot's file-system layer (ext4load, fatload,
// sqfsload, btrfs), the kernel's root mount (ext4 without sb=, btrfs reads
// its copy 0 at mount, XFS, F2FS, squashfs, erofs), blkid/udev probing,
// and the boot-time check (e2fsck -p does not fall back to a backup; only
// an operator's e2fsck without -p, xfs_repair or btrfs rescue does, and a
// technician repairing a slot by hand is not the threat). The copies
// these file systems keep are not at the end anyway: ext4's at the start
// of groups 1, 3, 5, 7, 9, 25, 27 ... (8 MiB or 128 MiB apart), XFS's at
// the start of each allocation group, btrfs's at 64 MiB and 256 GiB,
// FAT32's backup boot sector at sector 6 and F2FS's second superblock at
// 4 KiB (both inside the first MiB). What does live at the very end of a
// device is either not looked for inside a partition (a GPT's backup
// header: the kernel does not scan a partition for partitions, and U-Boot
// and the kernel without its "gpt" option read a GPT only after a
// protective MBR in sector 0, which is wiped; a slot holds a file system,
// not a disk),
// or belongs to no root file system a boot path here accepts (NTFS's
// backup boot sector, UDF's anchors, ZFS's labels L2/L3, MD 1.0 metadata,
// whose array data starts at offset 0 and so loses its own superblock).
// And the end of the slot is where an image that fills it ends; a smaller
// image ends before it, so wiping the slot's last MiB would hit none of
// its structures while breaking the rule above when the image fills the
// slot. TestInvalidatedSlotNotRecognised shows it with mkfs.ext4 (backup
// superblocks kept), mkfs.vfat, blkid -p and e2fsck -p.
func Invalidate(dst string) error {
	f, err := os.OpenFile(dst, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("slot: invalidate: %w", err)
	}
	defer f.Close()
	capa, err := capacity(f)
	if err != nil {
		return err
	}
	return wipe(f, dst, 0, min(capa, InvalidateBytes))
}

// wipe overwrites n bytes of f at off with zeros and waits until they are
// on the media.
func wipe(f *os.File, dst string, off, n int64) error {
	zeros := make([]byte, min(n, 64<<10))
	for done := int64(0); done < n; {
		k := min(int64(len(zeros)), n-done)
		if _, err := f.WriteAt(zeros[:k], off+done); err != nil {
			return fmt.Errorf("slot: invalidate %s: %w", dst, err)
		}
		done += k
	}
	if err := unix.Fdatasync(int(f.Fd())); err != nil {
		return fmt.Errorf("slot: invalidate %s: fdatasync: %w", dst, err)
	}
	return nil
}

// writeHeld writes the payload's held-back first bytes at the start of the
// slot, once everything after it is on the media and verified, makes it
// durable and reads it back from the media (rb: a buffer of at least its
// size).
func writeHeld(f *os.File, dst string, held, rb []byte) error {
	if len(held) == 0 {
		return nil
	}
	if _, err := f.WriteAt(held, 0); err != nil {
		return fmt.Errorf("slot: write %s at 0: %w", dst, err)
	}
	if err := unix.Fdatasync(int(f.Fd())); err != nil {
		return fmt.Errorf("slot: fdatasync %s: %w", dst, err)
	}
	_ = unix.Fadvise(int(f.Fd()), 0, int64(len(held)), unix.FADV_DONTNEED) // advisory only
	beforeReadBack(dst, 0, int64(len(held)))
	return compareAt(f, dst, 0, held, rb)
}
