package slot

import (
	"fmt"
	"os"
)

// InvalidateBytes is how much of a slot Invalidate overwrites: the first
// MiB holds the superblock of every file system a root slot uses (ext4 at
// 1 KiB, squashfs and erofs at 0 and 1 KiB, btrfs at 64 KiB, the FAT boot
// sector at 0), so nothing can mount or boot the slot afterwards.
const InvalidateBytes = 1 << 20

// Invalidate overwrites the start of the slot dst with zeros (at most
// InvalidateBytes, at most the slot's size) and syncs it: what a failed
// install left there can no longer be booted. The rest is left as it is.
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
	zeros := make([]byte, min(capa, InvalidateBytes))
	if _, err := f.WriteAt(zeros, 0); err != nil {
		return fmt.Errorf("slot: invalidate %s: %w", dst, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("slot: invalidate %s: fsync: %w", dst, err)
	}
	return nil
}
