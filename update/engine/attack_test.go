package engine

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"medagent/internal/authfile"
	"medagent/update/slot"
)

// notArmed checks that the boot environment still boots the old slot
// without a trial, that nothing rebooted and that slot A boots.
func notArmed(t *testing.T, w *world, before map[string]string) {
	t.Helper()
	if d := diffMaps(before, w.vars()); d != "" {
		t.Errorf("boot environment changed: %s", d)
	}
	if v := w.vars(); v["mender_boot_part"] != "2" || v["upgrade_available"] != "0" {
		t.Errorf("armed: %v", v)
	}
	if w.reboots != 0 {
		t.Errorf("%d reboots", w.reboots)
	}
	if s := w.boot(); s.Name != "A" {
		t.Errorf("booted %s", s.Name)
	}
}

// invalidated checks that the start of slot B is wiped.
func invalidated(t *testing.T, w *world) {
	t.Helper()
	b, err := os.ReadFile(w.slots.B.Device)
	must(t, err)
	n := min(len(b), slot.InvalidateBytes)
	if !bytes.Equal(b[:n], make([]byte, n)) {
		t.Error("slot B is not invalidated (its start is not wiped)")
	}
}

// TestSwappedPayloadInvalidated: a payload that differs from the signed
// digest (no chunk list: found at the end of the stream, after it was
// written) leaves slot B invalidated and never armed, with the reason.
func TestSwappedPayloadInvalidated(t *testing.T) {
	w := newWorld(t)
	before := w.vars()
	evil := bytes.Clone(w.newImg)
	evil[len(evil)/2] ^= 1
	e := w.engine(nil) // the opener's signed digest is that of w.newImg
	err := e.Install(context.Background(), bytes.NewReader(evil))
	if !errors.Is(err, ErrFailed) {
		t.Fatalf("install: %v, want ErrFailed", err)
	}
	j := e.Journal()
	if j.State != StateFailed || !strings.Contains(j.Reason, "checksum") || !strings.Contains(j.Reason, "slot B invalidated") {
		t.Errorf("journal %s, reason %q", j.State, j.Reason)
	}
	invalidated(t, w)
	notArmed(t, w, before)
}

// TestForgedJournalNotArmed: a journal that says "arm" but was not written
// with the device key (plain JSON, as the old engine read it; or an
// authentic-looking envelope with a wrong mac) arms nothing.
func TestForgedJournalNotArmed(t *testing.T) {
	forged := map[string][]byte{
		"plain JSON": []byte(`{"version": 1, "state": "arm", "artifact": "evil", "from_slot": "A", "from_part": "2",
			"to_slot": "B", "to_part": "3", "size": 1024, "entries": {"arm": 1}}`),
	}
	j := &Journal{Version: JournalVersion, State: StateArm, Artifact: "evil", FromSlot: "A", FromPart: "2",
		ToSlot: "B", ToPart: "3", Size: 1024, Digest: strings.Repeat("0", 64)}
	other, err := authfile.Marshal(bytes.Repeat([]byte{9}, 32), journalFormat, JournalVersion, j)
	must(t, err)
	forged["envelope with another key"] = other
	for name, b := range forged {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t)
			before := w.vars()
			o := w.options()
			must(t, os.WriteFile(o.Journal, b, 0o600))
			e := w.engine(nil)
			must(t, e.Resume(context.Background()))
			if st := e.Status(); st.State != StateIdle || st.JournalRejected == "" {
				t.Errorf("status %+v", st)
			}
			notArmed(t, w, before)
		})
	}
}

// TestArmRehashesSlot: an authentic journal left in "arm" (power cut just
// after it was written) arms only if slot B still holds exactly the signed
// image: the slot is re-hashed, whatever the journal says.
func TestArmRehashesSlot(t *testing.T) {
	for _, tampered := range []bool{false, true} {
		t.Run(map[bool]string{false: "intact", true: "slot changed after verify"}[tampered], func(t *testing.T) {
			w := newWorld(t)
			before := w.vars()
			e := w.engine(nil)
			e.crash = crashAtPoint("after:" + string(StateArm))
			if !crashed(func() { e.Install(context.Background(), w.src()) }) {
				t.Fatal("no power cut")
			}
			if tampered {
				f, err := os.OpenFile(w.slots.B.Device, os.O_WRONLY, 0)
				must(t, err)
				_, err = f.WriteAt([]byte("evil"), 4096)
				must(t, err)
				f.Close()
			}
			e = w.engine(nil)
			err := e.Resume(context.Background())
			if !tampered {
				must(t, err)
				if v := w.vars(); v["mender_boot_part"] != "3" || v["upgrade_available"] != "1" {
					t.Errorf("intact slot not armed: %v", v)
				}
				return
			}
			if !errors.Is(err, ErrFailed) {
				t.Fatalf("resume: %v", err)
			}
			if j := e.Journal(); !strings.Contains(j.Reason, "signed manifest says") || !strings.Contains(j.Reason, "invalidated") {
				t.Errorf("reason %q", j.Reason)
			}
			invalidated(t, w)
			notArmed(t, w, before)
		})
	}
}
