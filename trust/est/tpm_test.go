package est_test

import (
	"path/filepath"
	"testing"
	"time"

	"medagent/trust/est"
	"medagent/trust/identity"
	"medagent/trust/internal/swtpmtest"
)

// TestRenewWithTPMKey renews a certificate whose key is in swtpm: the TLS
// client authentication and the CSR are both signed in the TPM.
func TestRenewWithTPMKey(t *testing.T) {
	sim := swtpmtest.Start(t, filepath.Join(t.TempDir(), "tpm"))
	id, err := identity.Open(identity.Options{TPM: sim.Path})
	if err != nil {
		t.Fatal(err)
	}
	defer id.Close()
	e := setupKey(t, 5*24*time.Hour, id)
	r := e.renewer(t)
	stop := run(t, r)
	st := waitFor(t, "renewal", r, func(s est.Status) bool { return !s.LastSuccess.IsZero() || s.Failures > 0 })
	stop()
	if st.Failures != 0 || time.Until(st.NotAfter) < 80*24*time.Hour {
		t.Fatalf("status %+v", st)
	}
}
