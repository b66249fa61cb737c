package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"medagent/update/artifact"
	"medagent/update/internal/peakrss"
)

// BenchmarkInstallChunks: a whole install of an INSTALL_BENCH_MIB (default
// 256) ext4 image from an uncompressed stock mender-artifact 3.9 artifact,
// without and with a signed chunk list (verify before write), slots,
// journal and boot environment in /dev/shm, artifact and image in the page
// cache; in the same run "openssl dgst -sha256" of the image (target: the
// install with chunk verification at most 1.3 times it). It also installs
// each artifact in a child process and reports the child's peak RSS.
func BenchmarkInstallChunks(b *testing.B) {
	for _, tool := range []string{"mender-artifact", "openssl", "mkfs.ext4"} {
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
	pubFile := filepath.Join(dir, "pub.pem")
	must(b, os.WriteFile(pubFile, pub, 0o644))
	plain := filepath.Join(dir, "plain.mender")
	benchRun(b, "mender-artifact", "write", "rootfs-image", "-f", img, "-n", "bench-1.0", "-t", "bedside-v2", "-o", plain, "-k", key, "--compression", "none")
	chunked := filepath.Join(dir, "chunked.mender")
	benchRun(b, "cp", plain, chunked)
	f, err := os.Open(img)
	must(b, err)
	c, err := artifact.MakeChunks(f, "rootfs.ext4", 0)
	f.Close()
	must(b, err)
	meta, err := c.MetaData(nil)
	must(b, err)
	metaFile := filepath.Join(dir, "meta.json")
	must(b, os.WriteFile(metaFile, meta, 0o644))
	benchRun(b, "mender-artifact", "modify", chunked, "--meta-data", metaFile, "-k", key)

	var openssl, opensslCPU time.Duration
	for _, bc := range []struct{ name, art string }{{"without-chunks", plain}, {"with-chunks", chunked}} {
		b.Run(bc.name, func(b *testing.B) {
			w := newBenchWorld(b, "/dev/shm", int64(mib)<<20)
			var ours, oursCPU time.Duration
			for i := 0; i < b.N; i++ {
				warm(b, img, bc.art)
				os.Remove(w.options().Journal)
				must(b, w.env.Format(map[string]string{"mender_boot_part": "2", "upgrade_available": "0", "bootcount": "0", "bootlimit": "1"}))
				f, err := os.Open(bc.art)
				must(b, err)
				e := w.engine(func(o *Options) { o.Open = realOpener(b, pub, "bedside-v2"); o.FlushEvery = 0 })
				start, cpu0 := time.Now(), selfCPU()
				err = e.Install(context.Background(), f)
				ours += time.Since(start)
				oursCPU += selfCPU() - cpu0
				f.Close()
				must(b, err)
				if j := e.Journal(); j.Chunked != (bc.art == chunked) {
					b.Fatalf("journal chunked %v", j.Chunked)
				}
				openssl, opensslCPU = benchTimes(b, openssl, opensslCPU, "openssl", "dgst", "-sha256", img)
			}
			// Peak RSS of the same install in a child process.
			os.Remove(w.options().Journal)
			must(b, w.env.Format(map[string]string{"mender_boot_part": "2", "upgrade_available": "0", "bootcount": "0", "bootlimit": "1"}))
			cfg := w.env.Config()
			spec, _ := json.Marshal(rssSpec{Dir: w.dir, Slots: w.slots, EnvFile: cfg.Copies[0].Path, Lock: cfg.LockFile, Artifact: bc.art, Pub: pubFile})
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "MEDAGENT_ENGINE_RSS="+string(spec))
			out, err := cmd.CombinedOutput()
			if err != nil || !bytes.Contains(out, []byte("install: <nil>")) {
				b.Fatalf("child install: %v\n%s", err, out)
			}
			peak, err := peakrss.Parse(out)
			must(b, err)
			n := float64(b.N)
			b.ReportMetric(ours.Seconds()/n, "install-s")
			b.ReportMetric(float64(int64(mib)<<20)/ours.Seconds()*n/1e6, "install-MB/s")
			b.ReportMetric(ours.Seconds()/openssl.Seconds(), "install/openssl-dgst")
			b.ReportMetric(oursCPU.Seconds()/opensslCPU.Seconds(), "cpu:install/openssl-dgst")
			b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
			openssl, opensslCPU = 0, 0
		})
	}
}
