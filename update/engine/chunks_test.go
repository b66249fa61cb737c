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

	"medagent/update/artifact"
)

// menderArtifactWith writes w.newImg as a signed rootfs-image artifact
// with Debian's mender-artifact 3.9 and, when chunks is set, adds the
// image's chunk list to its signed meta-data with "mender-artifact modify
// --meta-data" (the documented way, see "medagent artifact chunks").
func menderArtifactWith(t *testing.T, w *world, key, compression string, chunks bool) string {
	t.Helper()
	out := menderArtifactFile(t, w, key, compression)
	if !chunks {
		return out
	}
	img := filepath.Join(w.dir, "rootfs.ext4")
	f, err := os.Open(img)
	must(t, err)
	c, err := artifact.MakeChunks(f, "rootfs.ext4", 0)
	f.Close()
	must(t, err)
	meta, err := c.MetaData(nil)
	must(t, err)
	metaFile := filepath.Join(w.dir, "meta.json")
	must(t, os.WriteFile(metaFile, meta, 0o644))
	if b, err := exec.Command("mender-artifact", "modify", out, "--meta-data", metaFile, "-k", key).CombinedOutput(); err != nil {
		t.Fatalf("mender-artifact modify: %v\n%s", err, b)
	}
	return out
}

// TestStockArtifactsWithAndWithoutChunks: artifacts from stock
// mender-artifact 3.9 install and commit, with the chunk list (verified
// chunk by chunk) and without it (checked at the end of the stream); with
// update.require_chunks the one without is refused before the slot is
// touched.
func TestStockArtifactsWithAndWithoutChunks(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name            string
		chunks, require bool
		ok              bool
	}{
		{"with chunk list", true, false, true},
		{"without chunk list", false, false, true},
		{"with chunk list, required", true, true, true},
		{"without chunk list, required", false, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorldSized(t, 4<<20, 3<<20+4321)
			key, pub := menderKeys(t, w.dir, "signing")
			file := menderArtifactWith(t, w, key, "gzip", tc.chunks)
			keys, err := artifact.ParsePublicKeys(pub)
			must(t, err)
			mod := func(o *Options) {
				o.Open = Opener(Verification{Keys: keys, DeviceType: "bedside-v2", RequireChunks: tc.require})
			}
			slotB, _ := os.ReadFile(w.slots.B.Device)
			f, err := os.Open(file)
			must(t, err)
			defer f.Close()
			e := w.engine(mod)
			err = e.Install(ctx, f)
			if !tc.ok {
				if !errors.Is(err, ErrFailed) || !strings.Contains(e.Journal().Reason, "no signed chunk list") {
					t.Fatalf("install: %v", err)
				}
				if b, _ := os.ReadFile(w.slots.B.Device); !bytes.Equal(b, slotB) {
					t.Error("slot B touched")
				}
				return
			}
			must(t, err)
			if j := e.Journal(); j.Chunked != tc.chunks {
				t.Errorf("journal chunked %v", j.Chunked)
			}
			if s := w.boot(); s.Name != "B" {
				t.Fatalf("booted %s", s.Name)
			}
			e = w.engine(mod)
			must(t, e.Resume(ctx))
			if st := e.Status(); st.State != StateCommitted || st.Installed["artifact_name"] != "release-2" {
				t.Fatalf("status %+v", st)
			}
		})
	}
}

// TestVerifyBeforeWrite64MiB: one byte changed at 60 % of a 64 MiB image
// inside a genuine signed artifact with a chunk list: the install stops at
// that chunk, the slot from that chunk on still holds what it held before,
// the start of the slot is wiped, and nothing is armed.
func TestVerifyBeforeWrite64MiB(t *testing.T) {
	const size = 64 << 20
	w := newWorldSized(t, size, size)
	key, pub := menderKeys(t, w.dir, "signing")
	file := menderArtifactWith(t, w, key, "none", true)
	b, err := os.ReadFile(file)
	must(t, err)
	at := size * 60 / 100
	i := bytes.Index(b, w.newImg[:4096])
	if i < 0 || !bytes.Equal(b[i:i+size], w.newImg) {
		t.Fatal("image not found whole in the uncompressed artifact")
	}
	b[i+at] ^= 0x20
	before := w.vars()
	slotB, err := os.ReadFile(w.slots.B.Device)
	must(t, err)
	keys, err := artifact.ParsePublicKeys(pub)
	must(t, err)
	e := w.engine(func(o *Options) { o.Open = Opener(Verification{Keys: keys, DeviceType: "bedside-v2"}) })
	err = e.Install(context.Background(), bytes.NewReader(b))
	if !errors.Is(err, ErrFailed) {
		t.Fatalf("install: %v", err)
	}
	bad := at / artifact.DefaultChunkSize
	if r := e.Journal().Reason; !strings.Contains(r, "chunk 38 of 64") || !strings.Contains(r, "invalidated") {
		t.Errorf("reason %q, want chunk %d of 64 and the slot invalidated", r, bad)
	}
	after, err := os.ReadFile(w.slots.B.Device)
	must(t, err)
	from := bad * artifact.DefaultChunkSize
	if !bytes.Equal(after[from:], slotB[from:]) {
		t.Errorf("slot B changed at or after chunk %d (byte %d)", bad, from)
	}
	if !bytes.Equal(after[1<<20:from], w.newImg[1<<20:from]) {
		t.Error("the verified chunks before it were not written as they are")
	}
	invalidated(t, w)
	notArmed(t, w, before)
}
