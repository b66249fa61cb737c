package mender

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"medagent/internal/ctxsleep"
	"medagent/mender/mendertest"
)

// recordSleeps makes c record its sleeps (and sleep at least floor).
func recordSleeps(c *Client, floor time.Duration) func() []time.Duration {
	var mu sync.Mutex
	var got []time.Duration
	c.sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		got = append(got, d)
		mu.Unlock()
		return ctxsleep.Sleep(ctx, max(d, floor))
	}
	return func() []time.Duration {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
}

func lastStatus(r *rig, dep string) string {
	s := r.statuses(dep)
	if len(s) == 0 {
		return ""
	}
	return s[len(s)-1]
}

func checkSpec(t *testing.T, r *rig) {
	t.Helper()
	for _, v := range r.srv.Violations() {
		t.Errorf("spec violation: %s", v)
	}
}

// TestBadArtifactSignature: an artifact signed by a key the device does
// not trust is refused by the client's own verifier: failure, with the
// reason in the uploaded deployment log, and nothing handed to acquire.
func TestBadArtifactSignature(t *testing.T) {
	r := newRig(t, mendertest.Options{AcceptAll: true, PostNext: true})
	other, _ := updateKey(t, r.dir, "other")
	art := writeArtifact(t, r.dir, "release-2", "bedside", other, 256<<10)
	r.srv.Deploy(mendertest.Deployment{ID: "dep-bad", ArtifactName: "release-2", DeviceTypes: []string{"bedside"}, File: art})
	c := r.client(t)
	run(t, c)
	waitFor(t, "failure", 20*time.Second, func() bool { return lastStatus(r, "dep-bad") == "failure" })
	waitFor(t, "log", 5*time.Second, func() bool { return len(r.device().Logs["dep-bad"]) > 0 })
	if got := r.statuses("dep-bad"); !slices.Equal(got, []string{"downloading", "failure"}) {
		t.Errorf("statuses = %v", got)
	}
	var log strings.Builder
	for _, m := range r.device().Logs["dep-bad"] {
		fmt.Fprintf(&log, "%s %s\n", m["level"], m["message"])
	}
	if !strings.Contains(log.String(), "artifact refused") || !strings.Contains(strings.ToLower(log.String()), "signature") {
		t.Errorf("deployment log does not say the signature failed:\n%s", log.String())
	}
	select {
	case it := <-r.acq.items:
		t.Errorf("item %s reached acquire", it.ID)
	case <-time.After(300 * time.Millisecond):
	}
	if calls := r.srv.Calls(); calls["GET /api/devices/v1/deployments/device/deployments/next"] != 0 {
		t.Errorf("GET next used although the server takes POST: %v", calls)
	}
	checkSpec(t, r)
}

// TestRateLimitedAndJWTExpiry: 429 answers are waited out for their
// Retry-After; a JWT the server no longer takes (401) is replaced by a
// new authentication and the call made again.
func TestRateLimitedAndJWTExpiry(t *testing.T) {
	r := newRig(t, mendertest.Options{AcceptAll: true, PostNext: true})
	c := r.client(t)
	sleeps := recordSleeps(c, 0)
	r.srv.RateLimit(2)
	run(t, c)
	waitFor(t, "inventory", 10*time.Second, func() bool { return len(r.device().Inventory) > 0 })
	waitFor(t, "polls after the 429s", 10*time.Second, func() bool {
		return r.srv.Calls()["POST /api/devices/v1/deployments/device/deployments/next"] >= 3
	})
	if n := slices.IndexFunc(sleeps(), func(d time.Duration) bool { return d >= time.Second && d < 1500*time.Millisecond }); n < 0 {
		t.Errorf("sleeps %v: Retry-After: 1 not honoured (want a wait in [1s, 1.5s))", sleeps())
	}
	tries := r.device().AuthTries
	r.srv.ExpireTokens()
	// An already installed artifact needs no download: it shows that the
	// calls after the expiry went through.
	r.srv.Deploy(mendertest.Deployment{ID: "dep-same", ArtifactName: "release-1", DeviceTypes: []string{"bedside"}, File: "/nonexistent"})
	waitFor(t, "already-installed", 10*time.Second, func() bool { return lastStatus(r, "dep-same") == "already-installed" })
	if got := r.device().AuthTries; got != tries+1 {
		t.Errorf("%d auth requests after the expiry, want 1", got-tries)
	}
	checkSpec(t, r)
}

// TestLinkExpiry: the download link expires while the download is
// interrupted; the storage answers 403, the client asks for the
// deployment again, gets a fresh link and resumes where it was.
func TestLinkExpiry(t *testing.T) {
	r := newRig(t, mendertest.Options{AcceptAll: true, LinkTTL: 500 * time.Millisecond, HideExpiry: true})
	art := writeArtifact(t, r.dir, "release-2", "bedside", r.key, 2<<20)
	r.srv.DropDownloadAt(1 << 20)
	r.srv.Deploy(mendertest.Deployment{ID: "dep-2", ArtifactName: "release-2", DeviceTypes: []string{"bedside"}, File: art})
	c := r.client(t)
	recordSleeps(c, 700*time.Millisecond) // the link is gone when the download resumes
	run(t, c)
	select {
	case it := <-r.acq.items:
		if it.Deployment != "dep-2" {
			t.Errorf("item for %q", it.Deployment)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no artifact reached acquire")
	}
	calls := r.srv.Calls()
	if calls["GET /storage/"] < 3 || calls["403 /storage/"] < 1 {
		t.Errorf("%d storage requests, %d refused: want the cut one, a 403 and the resumed one", calls["GET /storage/"], calls["403 /storage/"])
	}
	if n := calls["GET /api/devices/v1/deployments/device/deployments/next"]; n < 2 {
		t.Errorf("next asked %d times: the expired link was not renewed", n)
	}
	if s := r.statuses("dep-2"); !slices.Equal(s, []string{"downloading", "installing"}) {
		t.Errorf("statuses = %v", s)
	}
	checkSpec(t, r)
}

// TestInventoryOnChange: a changed attribute is sent at the next poll,
// without waiting for the inventory interval (an hour here).
func TestInventoryOnChange(t *testing.T) {
	r := newRig(t, mendertest.Options{AcceptAll: true, PostNext: true})
	c := r.client(t)
	run(t, c)
	value := func() any {
		inv := r.device().Inventory
		if len(inv) < 2 {
			return nil
		}
		return inv[1]["value"]
	}
	waitFor(t, "inventory", 10*time.Second, func() bool { return value() == "release-1" })
	r.dev.set("artifact_name", "release-9")
	waitFor(t, "changed inventory", 10*time.Second, func() bool { return value() == "release-9" })
	if n := r.srv.Calls()["PATCH /api/devices/v1/inventory/device/attributes"]; n != 2 {
		t.Errorf("%d inventory calls, want 2 (start, change): an unchanged inventory is not sent again before its interval", n)
	}
	checkSpec(t, r)
}
