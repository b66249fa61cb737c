package artifact

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"medagent/update/internal/peakrss"
)

// Benchmarks against Debian's tools. Sizes: ARTIFACT_BENCH_MIB (default
// 256) for the speed comparison, ARTIFACT_RSS_MIB (default 1024) for the
// peak-RSS run. Run with -benchtime=1x: setup writes the artifacts.

func envMiB(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// writeContent writes n bytes that look like a root filesystem: half
// incompressible, half repetitive.
func writeContent(tb testing.TB, path string, n int64) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	chunk := testImage(1<<20, 7)
	text := make([]byte, 1<<20)
	for i := range text {
		text[i] = "medagent bedside monitor rootfs\n"[i%32]
	}
	for off := int64(0); off < n; off += 1 << 20 {
		b := chunk
		if off/(1<<20)%2 == 1 {
			b = text
		}
		if rem := n - off; rem < int64(len(b)) {
			b = b[:rem]
		}
		if _, err := f.Write(b); err != nil {
			tb.Fatal(err)
		}
	}
}

func timeCmd(tb testing.TB, name string, args ...string) time.Duration {
	tb.Helper()
	start := time.Now()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		tb.Fatalf("%s %v: %v\n%.500s", name, args, err, out)
	}
	return time.Since(start)
}

// BenchmarkReadVsTools reads and verifies a rootfs artifact holding an
// ext4 image (gzip and none) into io.Discard and compares, in the same
// run, with "mender-artifact validate", "mender-artifact cp ART:/file"
// (cat of 3.9 stops after 32 KiB, cp extracts the whole file) and
// sha256sum of the raw image. Ratios > 1 mean medagent is faster.
func BenchmarkReadVsTools(b *testing.B) {
	f := getFixture(b)
	needTool(b, "mkfs.ext4", "e2fsprogs")
	needTool(b, "sha256sum", "coreutils")
	mib := envMiB("ARTIFACT_BENCH_MIB", 256)
	dir := b.TempDir()
	fsdir := filepath.Join(dir, "fs")
	os.Mkdir(fsdir, 0o755)
	writeContent(b, filepath.Join(fsdir, "big.bin"), int64(mib)<<20*3/4)
	img := filepath.Join(dir, "rootfs.ext4")
	run(b, "mkfs.ext4", "-q", "-F", "-m", "0", "-d", fsdir, img, fmt.Sprintf("%dM", mib))
	for _, comp := range []string{"gzip", "none"} {
		art := filepath.Join(dir, comp+".mender")
		run(b, "mender-artifact", "write", "rootfs-image", "-n", "bench", "-t", "bedside-a", "-f", img,
			"-o", art, "--compression", comp, "-k", f.rsaPriv, "--no-progress")
		b.Run(comp, func(b *testing.B) {
			var ours, validate, cp, sum time.Duration
			for i := 0; i < b.N; i++ {
				start := time.Now()
				fh, err := os.Open(art)
				if err != nil {
					b.Fatal(err)
				}
				_, err = Read(context.Background(), fh, Options{Keys: f.rsaKeys, DeviceType: "bedside-a"})
				fh.Close()
				if err != nil {
					b.Fatal(err)
				}
				ours += time.Since(start)
				validate += timeCmd(b, "mender-artifact", "validate", "-k", f.rsaPub, art)
				out := filepath.Join(dir, "cp.out")
				cp += timeCmd(b, "mender-artifact", "cp", art+":/big.bin", out)
				os.Remove(out)
				sum += timeCmd(b, "sha256sum", img)
			}
			n := float64(b.N)
			b.ReportMetric(ours.Seconds()/n, "medagent-s/op")
			b.ReportMetric(float64(int64(mib)<<20)/ours.Seconds()*n/1e6, "medagent-MB/s")
			b.ReportMetric(validate.Seconds()/ours.Seconds(), "validate/medagent")
			b.ReportMetric(cp.Seconds()/ours.Seconds(), "cp/medagent")
			b.ReportMetric(sum.Seconds()/ours.Seconds(), "sha256sum/medagent")
		})
	}
}

// BenchmarkPeakRSS reads an ARTIFACT_RSS_MIB (default 1 GiB) rootfs
// artifact in a child process (this test binary, see TestMain) and
// reports the child's peak RSS. Target: at most 32 MiB for gzip and none.
func BenchmarkPeakRSS(b *testing.B) {
	f := getFixture(b)
	mib := envMiB("ARTIFACT_RSS_MIB", 1024)
	dir := b.TempDir()
	img := filepath.Join(dir, "rootfs.img")
	writeContent(b, img, int64(mib)<<20)
	// lzma is slow to write; 128 MiB already fills its 64 MiB window.
	small := filepath.Join(dir, "small.img")
	writeContent(b, small, int64(min(mib, 128))<<20)
	for _, comp := range []string{"none", "gzip", "lzma"} {
		art := filepath.Join(dir, comp+".mender")
		src, size := img, mib
		if comp == "lzma" {
			src, size = small, min(mib, 128)
		}
		run(b, "mender-artifact", "write", "rootfs-image", "-n", "rss", "-t", "bedside-a", "-f", src,
			"-o", art, "--compression", comp, "-k", f.rsaPriv, "--no-progress")
		b.Run(comp, func(b *testing.B) {
			var peak int64
			for i := 0; i < b.N; i++ {
				cmd := exec.Command(os.Args[0], "-test.run=^$")
				cmd.Env = append(os.Environ(), "ARTIFACT_RSS_FILE="+art, "ARTIFACT_RSS_KEY="+f.rsaPub)
				out, err := cmd.CombinedOutput()
				if err != nil {
					b.Fatalf("child: %v\n%s", err, out)
				}
				n, err := peakrss.Parse(out)
				if err != nil {
					b.Fatal(err)
				}
				peak = max(peak, n)
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
			b.ReportMetric(float64(size), "image-MiB")
		})
		os.Remove(art)
	}
}

// rssChild is the child side of BenchmarkPeakRSS, called from TestMain.
func rssChild(path, key string) error {
	keys, err := LoadPublicKeys(key)
	if err != nil {
		return err
	}
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	r, err := NewReader(fh, Options{Keys: keys, DeviceType: "bedside-a"})
	if err != nil {
		return err
	}
	for {
		pf, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := io.Copy(io.Discard, pf); err != nil {
			return err
		}
	}
}
