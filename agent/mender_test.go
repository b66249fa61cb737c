package agent

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"medagent/mender/mendertest"
)

// TestMenderInUplinkRole: with mender.server_url set, the uplink role
// authenticates with the device key (mqtt.key_file), sends the inventory
// with the running artifact from artifact_info, and answers a deployment
// of that same artifact with already-installed, every call checked
// against the OpenAPI files.
func TestMenderInUplinkRole(t *testing.T) {
	srv := mendertest.Start(t, mendertest.Options{AcceptAll: true, PostNext: true})
	cfg := testConfig(t)
	dir := filepath.Dir(cfg.Spool.Dir)
	cfg.Update.Enabled = true
	cfg.Mender.ServerURL = srv.URL
	cfg.Mender.CAFile = filepath.Join(dir, "mender-ca.pem")
	if err := srv.WriteCA(cfg.Mender.CAFile); err != nil {
		t.Fatal(err)
	}
	cfg.Mender.StateDir = filepath.Join(dir, "mender")
	cfg.Mender.ArtifactInfo = filepath.Join(dir, "artifact_info")
	cfg.Mender.PollInterval = 200 * time.Millisecond
	if err := os.WriteFile(cfg.Mender.ArtifactInfo, []byte("artifact_name=release-1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv.Deploy(mendertest.Deployment{ID: "dep-1", ArtifactName: "release-1", DeviceTypes: []string{cfg.Device.Type}})
	a, err := New(Options{Config: cfg, Role: RoleUplink, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var d mendertest.Device
		for _, x := range srv.Devices() {
			d = x
		}
		if s := d.Statuses["dep-1"]; len(s) > 0 && s[0] == "already-installed" && len(d.Inventory) > 0 {
			if d.Inventory[1]["value"] != "release-1" || d.IDData != `{"device_id":"MA-T"}` {
				t.Errorf("inventory %v, identity %s", d.Inventory, d.IDData)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server state after 20 s: %+v", d)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, v := range srv.Violations() {
		t.Errorf("spec violation: %s", v)
	}
}
