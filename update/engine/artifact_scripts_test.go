package engine

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestArtifactStateScriptsRefused: a signed artifact from mender-artifact
// carrying ArtifactInstall, ArtifactReboot and ArtifactCommit scripts is
// refused after its signature is verified and before anything is written:
// no script ran (their side effect is absent), the slot and the boot
// environment are untouched, and the reason names the scripts and the way
// out. The device's own scripts (ScriptsDir) still run for an artifact
// without scripts.
func TestArtifactStateScriptsRefused(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	key, pub := menderKeys(t, w.dir, "signing")
	if _, err := exec.LookPath("mender-artifact"); err != nil {
		t.Fatal("mender-artifact not found: install Debian package mender-artifact (scripts/setup.sh)")
	}
	marks := filepath.Join(w.dir, "ran")
	var scriptArgs []string
	names := []string{"ArtifactInstall_Enter_00_prepare", "ArtifactReboot_Leave_10_migrate", "ArtifactCommit_Enter_50_notify"}
	for _, n := range names {
		p := filepath.Join(w.dir, n)
		must(t, os.WriteFile(p, []byte("#!/bin/sh\necho "+n+" >> "+marks+"\n"), 0o755))
		scriptArgs = append(scriptArgs, "-s", p)
	}
	img := filepath.Join(w.dir, "rootfs.ext4")
	must(t, os.WriteFile(img, w.newImg, 0o644))
	file := filepath.Join(w.dir, "with-scripts.mender")
	args := append([]string{"write", "rootfs-image", "-f", img, "-n", "release-2", "-t", "bedside-v2", "-o", file, "-k", key}, scriptArgs...)
	if b, err := exec.Command("mender-artifact", args...).CombinedOutput(); err != nil {
		t.Fatalf("mender-artifact: %v\n%s", err, b)
	}

	own := filepath.Join(w.dir, "scripts")
	must(t, os.MkdirAll(own, 0o755))
	must(t, os.WriteFile(filepath.Join(own, "ArtifactInstall_Enter_00_own"), []byte("#!/bin/sh\necho own >> "+marks+"\n"), 0o755))
	mod := func(o *Options) { o.Open, o.ScriptsDir = realOpener(t, pub, "bedside-v2"), own }
	envBefore := w.vars()
	slotB, _ := os.ReadFile(w.slots.B.Device)
	b, err := os.ReadFile(file)
	must(t, err)
	e := w.engine(mod)
	err = e.Install(ctx, bytes.NewReader(b))
	if !errors.Is(err, ErrFailed) {
		t.Fatalf("install of an artifact with state scripts: %v, want ErrFailed", err)
	}
	j := e.Journal()
	for _, want := range append([]string{ErrArtifactScripts.Error(), "without scripts"}, names...) {
		if !strings.Contains(j.Reason, want) {
			t.Errorf("reason %q does not name %q", j.Reason, want)
		}
	}
	if j.State != StateFailed {
		t.Errorf("journal state %s, want failed", j.State)
	}
	if ran, err := os.ReadFile(marks); err == nil {
		t.Errorf("scripts ran: %q", ran)
	}
	if d := diffMaps(envBefore, w.vars()); d != "" {
		t.Errorf("boot environment changed: %s", d)
	}
	if after, _ := os.ReadFile(w.slots.B.Device); !bytes.Equal(after, slotB) {
		t.Error("inactive slot written")
	}

	// The same release without artifact scripts installs, and the device's
	// own ArtifactInstall script runs.
	f, err := os.Open(menderArtifactFile(t, w, key, "none"))
	must(t, err)
	defer f.Close()
	must(t, w.engine(mod).Install(ctx, f))
	if ran, _ := os.ReadFile(marks); string(ran) != "own\n" {
		t.Errorf("scripts run for the artifact without scripts: %q, want the device's own", ran)
	}
}
