package agent

import (
	"crypto/sha256"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"medagent/update/engine"
)

// The reboot request returns but nothing reboots (the reboot unit failed,
// an inhibitor holds it): update.reboot_timeout after the request the
// acquire role gives up (update.reboot_retries 0: no second request), the
// boot environment points to slot A again, and "failed" with the reason
// arrives on cmd-result while the same processes keep running.
func TestFleetUpdateRebootNeverHappens(t *testing.T) {
	f := newFleet(t)
	f.cfg.Update.RebootTimeout = 30 * time.Second
	f.cfg.Update.RebootRetries = 0
	art, _ := os.ReadFile(f.fx.art)
	f.start(t, RoleAcquire, RoleUplink)
	time.Sleep(time.Second) // the subscription follows the connect
	nonce := f.send(t, map[string]string{"url": f.url, "digest": fmt.Sprintf("sha256:%x", sha256.Sum256(art))})
	f.waitResult(t, nonce, "accepted/reboot-pending", 90*time.Second)
	f.acq.upd.ForceReboot()
	f.waitRebooted(t) // requested; nothing reboots
	if v := f.bootEnv(t); v["mender_boot_part"] != "3" || v["upgrade_available"] != "1" {
		t.Fatalf("trial boot of B not armed after the request: %v", v)
	}
	if st := f.acq.upd.Status(); st.JournalState != engine.StateReboot || st.RebootRequests != 1 {
		t.Fatalf("status after the request: %+v", st)
	}
	r := f.waitResult(t, nonce, "failed/", 120*time.Second)
	if !strings.Contains(r.Error, "did not happen within 30s") || !strings.Contains(r.Error, "back to slot A") {
		t.Errorf("failure %q does not say the reboot did not happen and the environment was restored", r.Error)
	}
	if v := f.bootEnv(t); v["mender_boot_part"] != "2" || v["upgrade_available"] != "0" {
		t.Errorf("boot environment after giving up: %v, want slot A, no trial", v)
	}
	if st := f.acq.upd.Status(); st.State != engine.StateFailed {
		t.Errorf("engine status after giving up: %+v", st)
	}
}
