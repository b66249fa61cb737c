package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"medagent/trust/floor"
)

func raise(t *testing.T, w *world, v string) {
	t.Helper()
	fv, err := floor.Parse(v)
	must(t, err)
	must(t, w.floor().Raise(fv))
}

func floorOf(t *testing.T, w *world) string {
	t.Helper()
	v, ok, err := w.floor().Floor()
	must(t, err)
	if !ok {
		return ""
	}
	return v.String()
}

// TestOlderVersionRefused: on a device whose floor is 3.2.0 a signed 1.0.0
// artifact is refused before the slot is touched, with a clear reason.
func TestOlderVersionRefused(t *testing.T) {
	w := newWorld(t)
	raise(t, w, "3.2.0")
	before := w.vars()
	slotB, _ := os.ReadFile(w.slots.B.Device)
	e := w.engine(func(o *Options) {
		o.Open = fakeOpener("release-1.0.0", sha256.Sum256(w.newImg), int64(len(w.newImg)), nil)
	})
	err := e.Install(context.Background(), w.src())
	if !errors.Is(err, ErrFailed) {
		t.Fatalf("install: %v", err)
	}
	if r := e.Journal().Reason; !strings.Contains(r, "version 1.0.0") || !strings.Contains(r, "floor is 3.2.0") {
		t.Errorf("reason %q", r)
	}
	if b, _ := os.ReadFile(w.slots.B.Device); !bytes.Equal(b, slotB) {
		t.Error("slot B written")
	}
	notArmed(t, w, before)
	if floorOf(t, w) != "3.2.0" {
		t.Error("floor changed")
	}
}

// TestFloorRaisedOnlyAfterCommit: installing 3.2.0 leaves the floor where
// it was until the commit; a rolled-back update never raises it.
func TestFloorRaisedOnlyAfterCommit(t *testing.T) {
	ctx := context.Background()
	for _, healthy := range []bool{true, false} {
		w := newWorld(t)
		raise(t, w, "2.0")
		mod := func(o *Options) {
			o.Open = fakeOpener("release-3.2.0", sha256.Sum256(w.newImg), int64(len(w.newImg)), nil)
			if !healthy {
				o.Health = []Check{SensorsUp(func(context.Context) error { return errors.New("no ECG") }, 0)}
			}
		}
		must(t, w.engine(mod).Install(ctx, w.src()))
		if f := floorOf(t, w); f != "2.0" {
			t.Fatalf("floor %s before the commit", f)
		}
		w.boot()
		w.engine(mod).Resume(ctx)
		want := map[bool]string{true: "3.2.0", false: "2.0"}[healthy]
		if f := floorOf(t, w); f != want {
			t.Errorf("healthy %v: floor %s after the update, want %s", healthy, f, want)
		}
	}
}

// TestSignedDowngrade: a downgrade permission naming the exact artifact
// (name and payload digest) lets it install below the floor; one naming
// another artifact or another payload does not. The floor never goes down.
func TestSignedDowngrade(t *testing.T) {
	ctx := context.Background()
	sum := sha256.Sum256(randBytes(payloadSize, 2)) // w.newImg
	for _, tc := range []struct {
		name string
		dg   *Downgrade
		ok   bool
	}{
		{"exact artifact", &Downgrade{Artifact: "release-1.0.0", PayloadSHA256: hex.EncodeToString(sum[:])}, true},
		{"name only", &Downgrade{Artifact: "release-1.0.0"}, true},
		{"other artifact", &Downgrade{Artifact: "release-0.9"}, false},
		{"other payload", &Downgrade{Artifact: "release-1.0.0", PayloadSHA256: strings.Repeat("ab", 32)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			raise(t, w, "3.2.0")
			mod := func(o *Options) {
				o.Open = fakeOpener("release-1.0.0", sha256.Sum256(w.newImg), int64(len(w.newImg)), nil)
			}
			err := w.engine(mod).InstallWith(ctx, w.src(), InstallOptions{Downgrade: tc.dg})
			if tc.ok != (err == nil) {
				t.Fatalf("install: %v", err)
			}
			if !tc.ok {
				return
			}
			w.boot()
			must(t, w.engine(mod).Resume(ctx))
			if f := floorOf(t, w); f != "3.2.0" {
				t.Errorf("floor %s after a downgrade, want 3.2.0 (never lowered)", f)
			}
		})
	}
}

// TestUntrustedFloorStopsInstalls: a floor file that fails its check is
// never "no floor": installs stop with the reason.
func TestUntrustedFloorStopsInstalls(t *testing.T) {
	w := newWorld(t)
	raise(t, w, "1.0")
	p := filepath.Join(w.dir, "floor.state")
	b, _ := os.ReadFile(p)
	must(t, os.WriteFile(p, bytes.Replace(b, []byte(`"1.0"`), []byte(`"0.1"`), 1), 0o600))
	e := w.engine(func(o *Options) {
		o.Open = fakeOpener("release-3.0", sha256.Sum256(w.newImg), int64(len(w.newImg)), nil)
	})
	err := e.Install(context.Background(), w.src())
	if !errors.Is(err, ErrFailed) || !strings.Contains(e.Journal().Reason, "floor cannot be trusted") {
		t.Fatalf("install: %v, reason %q", err, e.Journal().Reason)
	}
}
