package remote

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"medagent/handoff"
	"medagent/trust/command"
	"medagent/trust/keyring"
)

type monitored bool

func (m monitored) Monitoring(time.Duration) bool { return bool(m) }

// Commands handed over are verified by acquire with its own keyring and
// nonce store; each result is spooled for the uplink to publish.
func TestCommands(t *testing.T) {
	rebooted := make(chan struct{}, 1)
	r := newRig(t, func(o *Options) {
		o.Patient = monitored(false)
		o.Reboot = func(context.Context) error { rebooted <- struct{}{}; return nil }
		o.Updates = fakeUpdater{}
	})
	digest := "sha256:" + strings.Repeat("0a", 32)
	diag := r.cmd(t, command.Diagnostics, nil)
	cases := []struct {
		name    string
		payload []byte
		phase   handoff.Phase
		result  string // status/code
		reason  string
	}{
		{"diagnostics", diag, handoff.Success, "done/", ""},
		{"replay", diag, handoff.Failure, "refused/replay", "replay"},
		{"tampered", []byte(strings.Replace(string(r.cmd(t, command.Diagnostics, nil)), `"diagnostics"`, `"reboot"`, 1)), handoff.Failure, "refused/bad-signature", "signature"},
		{"not JSON", []byte("reboot now"), handoff.Failure, "refused/malformed", "malformed"},
		{"update", r.cmd(t, command.Update, map[string]string{"url": "https://fleet.example/a.mender", "digest": digest}), handoff.Fetch, "accepted/", ""},
		{"update without digest", r.cmd(t, command.Update, map[string]string{"url": "https://fleet.example/a.mender"}), handoff.Failure, "failed/", "digest"},
		{"update over http", r.cmd(t, command.Update, map[string]string{"url": "http://fleet.example/a.mender", "digest": digest}), handoff.Failure, "failed/", "https"},
		{"config without keyring args", r.cmd(t, command.Config, map[string]string{"x": "y"}), handoff.Failure, "failed/", "keyring"},
		{"reboot", r.cmd(t, command.Reboot, nil), handoff.Success, "done/", ""},
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.s.worker(ctx)
	for i, tc := range cases {
		st := r.submit(t, tc.payload)
		if st.Phase != tc.phase || !strings.Contains(st.Reason, tc.reason) {
			t.Errorf("%s: state %+v, want phase %s with reason saying %q", tc.name, st, tc.phase, tc.reason)
		}
		res := r.spool.results(t)
		if len(res) != i+1 {
			t.Fatalf("%s: %d results spooled, want %d", tc.name, len(res), i+1)
		}
		if got := res[i].Status + "/" + res[i].Code; got != tc.result {
			t.Errorf("%s: result %s (%+v), want %s", tc.name, got, res[i], tc.result)
		}
		if tc.phase == handoff.Fetch && (st.Fetch == nil || st.Fetch.Digest != digest || res[i].Phase != "fetch") {
			t.Errorf("%s: fetch request %+v, result %+v", tc.name, st.Fetch, res[i])
		}
	}
	select {
	case <-rebooted:
	case <-time.After(5 * time.Second):
		t.Error("the reboot command did not run")
	}
}

// The clinical-use lock: no remote reboot while a patient is monitored.
func TestRebootRefusedWhileMonitored(t *testing.T) {
	r := newRig(t, func(o *Options) {
		o.Patient = monitored(true)
		o.Reboot = func(context.Context) error { t.Error("rebooted"); return nil }
	})
	st := r.submit(t, r.cmd(t, command.Reboot, nil))
	if st.Phase != handoff.Failure || !strings.Contains(st.Reason, "monitored") {
		t.Errorf("state %+v", st)
	}
}

// A corrupt keyring or nonce store never stops acquire: commands are
// refused with the reason, and obeyed again once the store is repaired.
func TestCorruptTrustRefusesCommands(t *testing.T) {
	for _, file := range []string{"keyring", "nonces"} {
		t.Run(file, func(t *testing.T) {
			r := newRig(t, nil)
			// The keyring that counts is its sealed copy (keyring.Open).
			path := map[string]string{"keyring": r.o.Keyring + keyring.SealedSuffix, "nonces": r.o.NonceFile}[file]
			good, _ := os.ReadFile(path)
			os.WriteFile(path, []byte(`{"format":1,`), 0o600)
			r.open(t) // New succeeds
			if err := r.s.TrustError(); err == nil {
				t.Fatal("TrustError nil with a corrupt store")
			}
			if r.s.UpdateKeys() != nil {
				t.Error("update keys from a corrupt keyring")
			}
			st := r.submit(t, r.cmd(t, command.Diagnostics, nil))
			res := r.spool.results(t)
			if st.Phase != handoff.Failure || !strings.Contains(st.Reason, "corrupt") && !strings.Contains(st.Reason, file) {
				t.Errorf("state %+v, want a failure naming the %s", st, file)
			}
			if len(res) != 1 || res[0].Status != command.StatusRefused || res[0].Code != trustCode {
				t.Errorf("results %+v, want refused/%s", res, trustCode)
			}
			if file == "keyring" {
				os.WriteFile(path, good, 0o600)
			} else {
				os.Remove(path)
			}
			if st := r.submit(t, r.cmd(t, command.Diagnostics, nil)); st.Phase != handoff.Success {
				t.Errorf("after the repair: %+v", st)
			}
			if r.s.TrustError() != nil {
				t.Errorf("TrustError after the repair: %v", r.s.TrustError())
			}
		})
	}
}

// After a restart, a command whose outcome is unknown fails (its nonce
// may be spent); an update command waiting for its artifact fails after
// FetchTimeout.
func TestRestartAndFetchTimeout(t *testing.T) {
	r := newRig(t, func(o *Options) { o.Updates = fakeUpdater{}; o.FetchTimeout = time.Hour })
	upd := r.submit(t, r.cmd(t, command.Update, map[string]string{"url": "https://f/a", "digest": "sha256:" + strings.Repeat("1b", 32)}))
	if upd.Phase != handoff.Fetch {
		t.Fatalf("update: %+v", upd)
	}
	r.s.c.Set(handoff.State{ID: "0000000000000000001-00000000", Kind: handoff.KindCommand, Phase: handoff.Verifying})
	r.open(t)
	r.s.settle(context.Background())
	if st, _ := r.p.State("0000000000000000001-00000000"); st.Phase != handoff.Failure || !strings.Contains(st.Reason, "restart") {
		t.Errorf("interrupted command: %+v", st)
	}
	if st, _ := r.p.State(upd.ID); st.Phase != handoff.Fetch {
		t.Errorf("update waiting for its artifact after a restart: %+v", st)
	}
	r.now = r.now.Add(61 * time.Minute)
	r.s.expire(context.Background())
	st, _ := r.p.State(upd.ID)
	if st.Phase != handoff.Failure || !strings.Contains(st.Reason, "no artifact") {
		t.Errorf("after the fetch timeout: %+v", st)
	}
	res := r.spool.results(t)
	if last := res[len(res)-1]; last.Status != command.StatusFailed || last.Nonce != upd.Nonce || last.Name != command.Update {
		t.Errorf("last result %+v, want the update failed", last)
	}
}

// The uplink's side: cheap checks, then the bytes go over unchanged.
func TestForward(t *testing.T) {
	r := newRig(t, nil)
	fwd := Forward(r.p, "MA-T", quiet, nil)
	valid := r.cmd(t, command.Diagnostics, nil)
	if res := fwd(context.Background(), valid); res != nil {
		t.Errorf("valid command answered at once: %s", res)
	}
	items, _ := r.p.Items()
	if len(items) != 1 || items[0].Kind != handoff.KindCommand {
		t.Fatalf("items %+v", items)
	}
	for _, tc := range []struct {
		name    string
		payload []byte
		code    string
	}{
		{"malformed", []byte(`{"v":1`), "malformed"},
		{"too big", make([]byte, command.MaxEnvelope+1), "malformed"},
		{"other device", []byte(strings.Replace(string(valid), `"MA-T"`, `"MA-X"`, 1)), "wrong-device"},
	} {
		var res command.Result
		if err := json.Unmarshal(fwd(context.Background(), tc.payload), &res); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if res.Status != command.StatusRefused || res.Code != tc.code {
			t.Errorf("%s: %+v", tc.name, res)
		}
	}
	if items, _ := r.p.Items(); len(items) != 1 {
		t.Errorf("refused commands reached the hand-off: %d items", len(items))
	}
	full := Forward(failing{handoff.ErrFull}, "MA-T", quiet, nil)
	var res command.Result
	json.Unmarshal(full(context.Background(), valid), &res)
	if res.Status != command.StatusFailed || !strings.Contains(res.Error, "retry later") || res.Name != command.Diagnostics {
		t.Errorf("hand-off full: %+v", res)
	}
}

type failing struct{ err error }

func (f failing) Submit(context.Context, handoff.Item) (string, error) { return "", f.err }
