package command

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestHandleRunsOnlyVerifiedCommandsOnce(t *testing.T) {
	f := newFixture(t)
	var ran []string
	run := func(c Command) error {
		ran = append(ran, c.Name)
		if c.Name == Diagnostics {
			return errors.New("disk full")
		}
		return nil
	}
	ok := signed(t, envelope(Reboot), "ops-ec", f.ec)
	forged := signed(t, envelope(Reboot), "ops-ec", f.rogue)
	failing := signed(t, envelope(Diagnostics), "ops-ed", f.ed)

	for _, c := range []struct {
		payload []byte
		status  string
		code    string
	}{
		{ok, StatusDone, ""},
		{ok, StatusRefused, "replay"},
		{forged, StatusRefused, "bad-signature"},
		{failing, StatusFailed, ""},
	} {
		r := f.v.Handle(t0, c.payload, run)
		if r.Status != c.status || r.Code != c.code || r.Device != "MA-0001" || r.Nonce == "" {
			t.Fatalf("result %+v, want status %s code %q", r, c.status, c.code)
		}
		if _, err := json.Marshal(r); err != nil {
			t.Fatal(err)
		}
	}
	if len(ran) != 2 || ran[0] != Reboot || ran[1] != Diagnostics {
		t.Fatalf("ran %v, want [reboot diagnostics]", ran)
	}
}
