package engine

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// BenchmarkInstallVsTools times a whole install (open and verify the
// artifact, stream its rootfs payload into a slot file with the write-back
// windows and the read-back comparison, arm the boot environment) of an
// INSTALL_BENCH_MIB (default 256) ext4 image, and in the same run the real
// peers, with the artifact and the image in the page cache for all:
//
//   - none, gzip: the slots, journal and boot environment in memory
//     (/dev/shm), so that the software is measured, not the disk: uncompressed install against
//     "openssl dgst -sha256" of the image (target: at most 1.3 times) and
//     gzip install against "mender-artifact cp" of a file out of the
//     artifact's image (target: at most 0.6 times);
//   - none-disk: all of them on the disk (MEDAGENT_BENCH_DIR, default the
//     test's temp dir), where the disk bounds any install, against
//     "dd bs=1M conv=fsync" of the image into the same slot file.
//
// Run with -benchtime=1x; setup writes the image and the artifacts.
func BenchmarkInstallVsTools(b *testing.B) {
	for _, tool := range []string{"mender-artifact", "openssl", "mkfs.ext4", "dd"} {
		if _, err := exec.LookPath(tool); err != nil {
			b.Fatalf("%s not found: run scripts/setup.sh", tool)
		}
	}
	mib := 256
	if v, err := strconv.Atoi(os.Getenv("INSTALL_BENCH_MIB")); err == nil && v > 0 {
		mib = v
	}
	dir := b.TempDir()
	fsdir := filepath.Join(dir, "fs")
	must(b, os.Mkdir(fsdir, 0o755))
	writeRootfsContent(b, filepath.Join(fsdir, "content.bin"), int64(mib)<<20*3/4)
	img := filepath.Join(dir, "rootfs.ext4")
	benchRun(b, "mkfs.ext4", "-q", "-F", "-m", "0", "-d", fsdir, img, fmt.Sprintf("%dM", mib))
	must(b, os.RemoveAll(fsdir))
	key, pub := menderKeys(b, dir, "signing")
	memDir := "/dev/shm"
	if fi, err := os.Stat(memDir); err != nil || !fi.IsDir() {
		b.Fatalf("%s: no tmpfs for the in-memory slot", memDir)
	}
	diskDir := os.Getenv("MEDAGENT_BENCH_DIR")
	if diskDir == "" {
		diskDir = dir
	}
	arts := map[string]string{}
	for _, comp := range []string{"none", "gzip"} {
		arts[comp] = filepath.Join(dir, comp+".mender")
		benchRun(b, "mender-artifact", "write", "rootfs-image", "-f", img, "-n", "bench-"+comp,
			"-t", "bedside-v2", "-o", arts[comp], "-k", key, "--compression", comp)
	}
	for _, bc := range []struct{ name, comp, slotDir string }{
		{"none", "none", memDir}, {"gzip", "gzip", memDir}, {"none-disk", "none", diskDir},
	} {
		art := arts[bc.comp]
		b.Run(bc.name, func(b *testing.B) {
			w := newBenchWorld(b, bc.slotDir, int64(mib)<<20)
			var ours, peer, oursCPU, peerCPU time.Duration
			for i := 0; i < b.N; i++ {
				warm(b, img, art) // in the page cache, as for the tools
				os.Remove(w.options().Journal)
				must(b, w.env.Format(map[string]string{"mender_boot_part": "2", "upgrade_available": "0", "bootcount": "0", "bootlimit": "1"}))
				f, err := os.Open(art)
				must(b, err)
				e := w.engine(func(o *Options) { o.Open = realOpener(b, pub, "bedside-v2"); o.FlushEvery = 0 })
				start, cpu0 := time.Now(), selfCPU()
				err = e.Install(context.Background(), f)
				ours += time.Since(start)
				oursCPU += selfCPU() - cpu0
				f.Close()
				must(b, err)
				switch bc.name {
				case "none":
					peer, peerCPU = benchTimes(b, peer, peerCPU, "openssl", "dgst", "-sha256", img)
				case "gzip":
					out := filepath.Join(dir, "cp.out")
					peer, peerCPU = benchTimes(b, peer, peerCPU, "mender-artifact", "cp", art+":/content.bin", out)
					os.Remove(out)
				default:
					peer, peerCPU = benchTimes(b, peer, peerCPU, "dd", "if="+img, "of="+w.slots.B.Device, "bs=1M", "conv=fsync,notrunc", "status=none")
				}
			}
			n := float64(b.N)
			peerName := map[string]string{"none": "openssl-dgst", "gzip": "mender-artifact-cp", "none-disk": "dd-fsync"}[bc.name]
			b.ReportMetric(ours.Seconds()/n, "install-s")
			b.ReportMetric(peer.Seconds()/n, peerName+"-s")
			b.ReportMetric(ours.Seconds()/peer.Seconds(), "install/"+peerName)
			// CPU time (user+system) of the install and of the peer: what
			// the ratio tends to when other work leaves no core idle.
			b.ReportMetric(oursCPU.Seconds()/peerCPU.Seconds(), "cpu:install/"+peerName)
		})
	}
}

// newBenchWorld is a world whose files (slots of size bytes, journal,
// boot environment, kernel command line) are in a new directory in dir.
func newBenchWorld(b *testing.B, dir string, size int64) *world {
	wdir, err := os.MkdirTemp(dir, "medagent-bench-")
	must(b, err)
	b.Cleanup(func() { os.RemoveAll(wdir) })
	w := newWorldIn(b, wdir, slotSize, payloadSize)
	// Slots exist before an install (a partition, not a sparse file):
	// write them out once, so that the install overwrites, as on a device.
	zeros := make([]byte, 1<<20)
	for _, s := range []string{w.slots.A.Device, w.slots.B.Device} {
		f, err := os.Create(s)
		must(b, err)
		for off := int64(0); off < size; off += int64(len(zeros)) {
			_, err := f.Write(zeros)
			must(b, err)
		}
		must(b, f.Close())
	}
	must(b, os.WriteFile(w.slots.CmdlinePath, []byte("root="+w.slots.A.Device+" medagent.slot=a\n"), 0o644))
	return w
}

// writeRootfsContent writes n bytes like a root filesystem's: half
// incompressible, half repetitive text.
func writeRootfsContent(b *testing.B, path string, n int64) {
	f, err := os.Create(path)
	must(b, err)
	defer f.Close()
	r := rand.New(rand.NewPCG(1, 2))
	noise := make([]byte, 1<<20)
	for i := range noise {
		noise[i] = byte(r.Uint32())
	}
	text := make([]byte, 1<<20)
	for i := range text {
		text[i] = "medagent bedside monitor rootfs\n"[i%32]
	}
	for off := int64(0); off < n; off += 1 << 20 {
		c := noise
		if off>>20%2 == 1 {
			c = text
		}
		_, err := f.Write(c[:min(int64(len(c)), n-off)])
		must(b, err)
	}
}

func benchRun(b *testing.B, name string, args ...string) {
	b.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		b.Fatalf("%s %v: %v\n%.500s", name, args, err, out)
	}
}

// warm reads files once so that they are in the page cache.
func warm(b *testing.B, paths ...string) {
	for _, p := range paths {
		f, err := os.Open(p)
		must(b, err)
		_, err = io.Copy(io.Discard, f)
		f.Close()
		must(b, err)
	}
}

// benchTimes runs a peer and adds its wall and CPU time.
func benchTimes(b *testing.B, wall, cpu time.Duration, name string, args ...string) (time.Duration, time.Duration) {
	b.Helper()
	cmd := exec.Command(name, args...)
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("%s %v: %v\n%.500s", name, args, err, out)
	}
	return wall + time.Since(start), cpu + cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// selfCPU is the CPU time (user+system) this process used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
