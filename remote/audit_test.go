package remote

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"strings"
	"sync"
	"testing"

	"medagent/trust/command"
	"medagent/trust/keyring"
)

// TestAuditTrail: refused and accepted commands and keyring changes (a
// command key adding an update key, refused) leave audit entries with the
// signer.
func TestAuditTrail(t *testing.T) {
	var mu sync.Mutex
	var got []string
	r := newRig(t, func(o *Options) {
		o.Audit = func(kind string, f map[string]string) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, kind+" key_id="+f["key_id"]+f["signer"]+" reason="+f["reason"])
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.s.worker(ctx)
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	enc, _ := keyring.EncodeKey(&k.PublicKey)
	r.submit(t, r.cmd(t, command.Diagnostics, nil))
	r.submit(t, []byte("not a command"))
	r.submit(t, r.cmd(t, command.Config, map[string]string{"keyring.version": "2", "keyring.set": "update", "keyring.add_id": "evil", "keyring.add_key": enc}))
	mu.Lock()
	defer mu.Unlock()
	want := []string{"keyring.sealed", "command.accepted key_id=ops", "command.refused", "keyring.refused key_id=ops reason=keyring: change refused: update-signing keys change only", "command.failed key_id=ops"}
	if len(got) != len(want) {
		t.Fatalf("audit entries %q, want %d", got, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(got[i], w) {
			t.Errorf("entry %d: %q, want it to start with %q", i, got[i], w)
		}
	}
}
