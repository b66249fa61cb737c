package artifact

import "fmt"

// menderLzmaDict is the dictionary mender-artifact (3.x) declares for
// every "--compression lzma" artifact: its xz writer is fixed at xz -9's
// 64 MiB, and no option of mender-artifact 3.9 changes it.
const menderLzmaDict = 64 << 20

// windowAdvice says how to get an artifact whose decompressor declares a
// window of need bytes (an xz dictionary, a zstd window) past the bound
// max installed: rebuild it with what mender-artifact 3.9 offers (none,
// gzip, lzma), or raise the bound where the RAM is there.
// need 0 means unknown.
func windowAdvice(need, max int64) string {
	raise := "or, only on a device with the RAM to spare for an install, raise the bound (update.max_window; --max-window-mib for the medagent artifact and update commands)"
	if need > 0 {
		raise = fmt.Sprintf("or, only on a device with %s to spare for an install, raise the bound to it (update.max_window: %d; --max-window-mib %d for the medagent artifact and update commands)",
			sizeText(need), need, (need+1<<20-1)>>20)
	}
	if need == menderLzmaDict {
		return "mender-artifact writes --compression lzma always with a 64 MiB dictionary (no option changes it), which the device would have to allocate; " +
			"rebuild the artifact with mender-artifact write rootfs-image ... --compression gzip (or --compression none), " + raise
	}
	return fmt.Sprintf("rebuild the artifact with a window of at most %s (mender-artifact write rootfs-image ... --compression gzip or none; xz -6 or xz --lzma2=dict=%s; zstd without --long), %s",
		sizeText(max), sizeText(max), raise)
}

// sizeText is n bytes in MiB when it is a whole number of MiB, else in
// KiB or bytes.
func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
