package agent

import (
	"context"
	"os"
	"path/filepath"
	"strings"
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

// TestMenderDeploymentEndToEnd: a deployment from the spec-built Mender
// server in split roles with the real acquire side: the uplink downloads
// the artifact into the hand-off, acquire verifies and installs it, holds
// the reboot while the (simulated) patient is monitored
// (pause_before_rebooting), reboots when the technician lets it, and after
// the reboot into the new slot its own health checks commit: success in
// the server's view, the boot environment committed on B.
func TestMenderDeploymentEndToEnd(t *testing.T) {
	f := newFleet(t)
	srv := mendertest.Start(t, mendertest.Options{AcceptAll: true, PostNext: true})
	cfg := &f.cfg
	cfg.Mender.ServerURL = srv.URL
	cfg.Mender.CAFile = filepath.Join(f.fx.dir, "mender-ca.pem")
	if err := srv.WriteCA(cfg.Mender.CAFile); err != nil {
		t.Fatal(err)
	}
	cfg.Mender.StateDir = filepath.Join(f.fx.dir, "mender")
	cfg.Mender.ArtifactInfo = filepath.Join(f.fx.dir, "artifact_info")
	cfg.Mender.PollInterval = 500 * time.Millisecond
	os.WriteFile(cfg.Mender.ArtifactInfo, []byte("artifact_name=release-1\n"), 0o644)
	last := func() string {
		for _, d := range srv.Devices() {
			if s := d.Statuses["dep-1"]; len(s) > 0 {
				return s[len(s)-1]
			}
		}
		return ""
	}
	wait := func(want string, timeout time.Duration) {
		t.Helper()
		deadline := time.Now().Add(timeout)
		for last() != want {
			if time.Now().After(deadline) {
				t.Fatalf("deployment status %q after %v, want %q", last(), timeout, want)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	f.start(t, RoleAcquire, RoleUplink)
	// The operator deploys while a patient is monitored.
	deadline := time.Now().Add(30 * time.Second)
	for !f.acq.acq.acq.Monitoring(cfg.Update.MonitoringGrace) {
		if time.Now().After(deadline) {
			t.Fatal("the simulated patient is not monitored after 30 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	srv.Deploy(mendertest.Deployment{ID: "dep-1", ArtifactName: "release-2", DeviceTypes: []string{cfg.Device.Type}, File: f.fx.art})
	wait("pause_before_rebooting", 90*time.Second)
	if v := f.bootEnv(t); v["mender_boot_part"] != "3" || v["upgrade_available"] != "1" {
		t.Fatalf("trial boot of B not armed: %v", v)
	}
	f.acq.upd.ForceReboot() // the technician's decision
	wait("rebooting", 30*time.Second)
	f.waitRebooted(t)
	f.halt()
	f.bootSlot(t, "b")
	os.WriteFile(cfg.Mender.ArtifactInfo, []byte("artifact_name=release-2\n"), 0o644)
	f.start(t, RoleAcquire, RoleUplink)
	wait("success", 90*time.Second)
	if v := f.bootEnv(t); v["mender_boot_part"] != "3" || v["upgrade_available"] != "0" {
		t.Errorf("after the health checks: %v, want B committed", v)
	}
	var got []string
	for _, d := range srv.Devices() {
		got = d.Statuses["dep-1"]
	}
	want := []string{"downloading", "installing", "pause_before_rebooting", "rebooting", "success"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("statuses %v, want %v", got, want)
	}
	for _, v := range srv.Violations() {
		t.Errorf("spec violation: %s", v)
	}
}
