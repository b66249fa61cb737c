package mender

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"medagent/handoff"
	"medagent/mender/mendertest"
)

// TestWholeFlow drives a deployment through the spec-built server: the
// device is not accepted, then accepted; it sends its inventory, gets the
// deployment (GET after the POST's 404: the published spec has no POST),
// downloads the artifact over a connection that drops half-way, verifies
// it, hands it to acquire, waits while the clinical-use lock holds the
// reboot, reboots (the uplink restarts and resumes from its state file)
// and reports success. Every request and response is checked against the
// OpenAPI files.
func TestWholeFlow(t *testing.T) {
	r := newRig(t, mendertest.Options{})
	art := writeArtifact(t, r.dir, "release-2", "bedside", r.key, 3<<20)
	c := r.client(t)
	stop := run(t, c)

	waitFor(t, "auth requests while pending", 10*time.Second, func() bool { return r.device().AuthTries >= 3 })
	if st := c.Status(); st.Auth != "pending acceptance" || st.AuthTries < 3 || !strings.Contains(st.LastError, "not accepted") {
		t.Errorf("status while not accepted: %+v", st)
	}
	if inv := r.device().Inventory; inv != nil {
		t.Errorf("inventory sent before acceptance: %v", inv)
	}

	r.srv.Accept("")
	waitFor(t, "inventory", 10*time.Second, func() bool { return len(r.device().Inventory) > 0 })
	if st := c.Status(); st.Auth != "accepted" {
		t.Errorf("status after acceptance: %+v", st)
	}
	inv := r.device().Inventory
	if len(inv) != 4 || inv[1]["name"] != "artifact_name" || inv[1]["value"] != "release-1" {
		t.Errorf("inventory = %v", inv)
	}

	r.srv.DropDownloadAt(1 << 20)
	r.srv.Deploy(mendertest.Deployment{ID: "dep-1", ArtifactName: "release-2", DeviceTypes: []string{"bedside"}, File: art})
	var item handoff.Meta
	select {
	case item = <-r.acq.items:
	case <-time.After(30 * time.Second):
		t.Fatal("no artifact reached acquire")
	}
	if item.Deployment != "dep-1" {
		t.Errorf("item names deployment %q", item.Deployment)
	}
	want, _ := os.ReadFile(art)
	sum := sha256.Sum256(want)
	if item.Digest != "sha256:"+hex.EncodeToString(sum[:]) || item.Size != int64(len(want)) {
		t.Errorf("item digest %s size %d, want the artifact's", item.Digest, item.Size)
	}
	if strings.Contains(item.Source, "signature") {
		t.Errorf("the link's signature reached the hand-off: %s", item.Source)
	}
	r.acq.set(t, item.ID, handoff.Installing, "")
	r.acq.set(t, item.ID, handoff.RebootPending, "clinical-use lock held: patient monitored")
	waitFor(t, "pause_before_rebooting", 10*time.Second, func() bool {
		s := r.statuses("dep-1")
		return len(s) > 0 && s[len(s)-1] == "pause_before_rebooting"
	})
	if sub := r.device().Substate["dep-1"]; !strings.Contains(sub, "clinical-use lock") {
		t.Errorf("substate %q, want the lock's reason", sub)
	}
	r.acq.set(t, item.ID, handoff.Rebooting, "")
	waitFor(t, "rebooting", 10*time.Second, func() bool {
		s := r.statuses("dep-1")
		return len(s) > 0 && s[len(s)-1] == "rebooting"
	})

	// The reboot: the uplink goes down with the device and starts again
	// in the new artifact, where acquire's health checks commit.
	stop()
	r.dev.set("artifact_name", "release-2")
	r.acq.set(t, item.ID, handoff.Success, "")
	c2 := r.client(t)
	run(t, c2)
	waitFor(t, "success", 10*time.Second, func() bool {
		s := r.statuses("dep-1")
		return len(s) > 0 && s[len(s)-1] == "success"
	})
	waitFor(t, "deployment finished", 10*time.Second, func() bool { return c2.Status().Deployment == "" })
	got := r.statuses("dep-1")
	if !slices.Equal(got, []string{"downloading", "installing", "pause_before_rebooting", "rebooting", "success"}) {
		t.Errorf("statuses = %v", got)
	}
	calls := r.srv.Calls()
	if calls["GET /storage/"] < 2 {
		t.Errorf("%d downloads: the dropped connection was not resumed", calls["GET /storage/"])
	}
	if calls["POST /api/devices/v1/deployments/device/deployments/next"] == 0 || calls["GET /api/devices/v1/deployments/device/deployments/next"] == 0 {
		t.Errorf("calls %v: want POST next, then GET after its 404", calls)
	}
	if _, err := os.Stat(c2.statePath); !os.IsNotExist(err) {
		t.Errorf("deployment state left after success: %v", err)
	}
	for _, v := range r.srv.Violations() {
		t.Errorf("spec violation: %s", v)
	}
}
