package e2e

import (
	"debug/elf"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The device binaries are static: no interpreter, no shared libraries.
func TestBinariesAreStatic(t *testing.T) {
	t.Parallel()
	for _, arch := range []string{"amd64", "arm64", "arm"} {
		bin := agentBin
		if arch != "amd64" {
			bin = binary(t, arch)
		}
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
				t.Errorf("%s: has %v: not a static binary", arch, p.Type)
			}
		}
		if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
			t.Errorf("%s: needs shared libraries %v", arch, libs)
		}
		f.Close()
	}
}

// The arm64 binary runs under qemu-aarch64-static: version, and a short run
// on simulated sensors that writes spool records.
func TestArm64UnderQEMU(t *testing.T) {
	qemu, err := exec.LookPath("qemu-aarch64-static")
	if err != nil {
		t.Fatal("qemu-aarch64-static not found: install Debian package qemu-user-static (scripts/setup.sh)")
	}
	t.Parallel()
	r := newRig(t, "tls://127.0.0.1:1") // no broker: the agent spools
	bin := binary(t, "arm64")
	out, err := exec.Command(qemu, bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("version under qemu: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "linux/arm64") {
		t.Errorf("version under qemu says %q, want linux/arm64", out)
	}
	p := r.start(t, qemu)
	time.Sleep(6 * time.Second)
	p.stop(t)
	if n, _ := r.pending(t); n < 6 {
		t.Errorf("arm64 agent spooled %d records in 6 s, want at least 6\n%s", n, p.log)
	}
}
