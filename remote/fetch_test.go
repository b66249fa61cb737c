package remote

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"medagent/handoff"
	"medagent/remote/download"
	"medagent/trust/command"
)

// The uplink's side of an update: it downloads what a verified update
// command names and hands it over; what cannot be had is reported with
// the reason, and acquire fails the command with it.
func TestFetcher(t *testing.T) {
	blob := []byte("release-2 artifact bytes")
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/r2.mender" {
			http.NotFound(w, r)
			return
		}
		w.Write(blob)
	}))
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	dl, err := download.New(download.Options{RootCAs: roots, MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	good := fmt.Sprintf("sha256:%x", sha256.Sum256(blob))
	cases := []struct {
		name, path, digest string
		phase              handoff.Phase
		reason             string
	}{
		{"downloaded", "/r2.mender", good, handoff.Verifying, ""},
		{"not found", "/missing.mender", good, handoff.Failure, "404"},
		{"wrong digest", "/r2.mender", "sha256:" + strings.Repeat("00", 32), handoff.Failure, "digest"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			eng := &engineFake{}
			r := newRig(t, func(o *Options) { o.Updates = eng })
			cmd := r.submit(t, r.cmd(t, command.Update, map[string]string{"url": srv.URL + tc.path, "digest": tc.digest}))
			f := NewFetcher(r.p, dl, quiet)
			f.once(context.Background())
			items, _ := r.p.Items()
			var art handoff.Meta
			for _, m := range items {
				if m.Kind == handoff.KindArtifact {
					art = m
				}
			}
			if art.Command != cmd.ID || art.Source != srv.URL+tc.path {
				t.Fatalf("artifact item %+v", art)
			}
			f.once(context.Background()) // served: not downloaded again
			if items2, _ := r.p.Items(); len(items2) != len(items) {
				t.Errorf("a second pass submitted again: %d items", len(items2))
			}
			if ents, _ := os.ReadDir(r.p.WorkDir()); len(ents) != 0 {
				t.Errorf("work files left: %v", ents)
			}
			r.s.c.Scan(context.Background())
			st, _ := r.p.State(cmd.ID)
			if tc.phase == handoff.Failure {
				if st.Phase != handoff.Failure || !strings.Contains(st.Reason, tc.reason) {
					t.Errorf("command state %+v, want failure saying %q", st, tc.reason)
				}
				return
			}
			// Taken by acquire, queued for the (absent) worker.
			if ast, _ := r.p.State(art.ID); ast.Phase != handoff.Received || art.Digest != good {
				t.Errorf("artifact state %+v, meta %+v", ast, art)
			}
		})
	}
}
