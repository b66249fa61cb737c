package engine

import "runtime/debug"

// DefaultInstallGCPercent is the garbage collector's target while a
// payload is written (Options.InstallGCPercent).
const DefaultInstallGCPercent = 10

// limitMemory makes the garbage collector collect after the heap grew by
// percent of what is live (instead of the default 100 %) while a payload
// is written, and returns the function that restores the previous
// setting. An install keeps its decompression window and the slot
// writer's buffers live; what it throws away (the xz decoder's copy
// buffers, up to half of what an incompressible xz payload decodes to) is
// then collected before the process grows, not when its heap has doubled:
// this is what keeps an install's peak RSS within 32 MiB (TestInstallPeakRSS).
func limitMemory(percent int) func() {
	if percent <= 0 {
		return func() {}
	}
	prev := debug.SetGCPercent(percent)
	return func() { debug.SetGCPercent(prev) }
}
