package engine

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"medagent/update/artifact"
)

// TestDownloadBoundedBySignedHeader: a server that sends more than the
// artifact's signed header declares is cut off at that bound when the
// download is kept (download dir), long before it is done; streamed, the
// reader refuses what follows the artifact's end beyond a bounded zero
// padding (the payload was written, the slot is invalidated); a header
// signed by an unknown key stops the download as soon as it is in; without
// a client (no trust anchors) nothing is fetched. Refused, the slot and the
// boot environment stay as they were.
func TestDownloadBoundedBySignedHeader(t *testing.T) {
	for _, tc := range []struct {
		name     string
		otherKey bool
		extra    int // bytes appended by the hostile server
		noClient bool
		want     string
	}{
		{name: "garbage after the artifact", extra: 64 << 20, want: "larger than its bound"},
		{name: "header by an unknown key", otherKey: true, extra: 64 << 20, want: "signature verification failed"},
		{name: "no trust anchors", noClient: true, want: "no HTTPS client"},
	} {
		for _, dir := range []bool{true, false} {
			t.Run(tc.name+map[bool]string{true: ", download dir", false: ", streamed"}[dir], func(t *testing.T) {
				w := newWorldSized(t, 4<<20, 3<<20)
				key, pub := menderKeys(t, w.dir, "signing")
				if tc.otherKey {
					_, pub = menderKeys(t, w.dir, "other")
				}
				file := menderArtifactWith(t, w, key, "none", true)
				art, err := os.ReadFile(file)
				must(t, err)
				body := append(art, bytes.Repeat([]byte{0}, tc.extra)...)
				var served atomic.Int64
				srv := httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
					rw.Header().Set("ETag", `"a"`)
					for off := 0; off < len(body); off += 64 << 10 {
						n, err := rw.Write(body[off:min(off+64<<10, len(body))])
						served.Add(int64(n))
						if err != nil {
							return
						}
					}
				}))
				defer srv.Close()
				keys, err := artifact.ParsePublicKeys(pub)
				must(t, err)
				dl := filepath.Join(w.dir, "download")
				must(t, os.Mkdir(dl, 0o700))
				before := w.vars()
				slotB, _ := os.ReadFile(w.slots.B.Device)
				e := w.engine(func(o *Options) {
					o.Open = Opener(Verification{Keys: keys, DeviceType: "bedside-v2"})
					o.HTTPClient = srv.Client()
					if tc.noClient {
						o.HTTPClient = nil
					}
					if dir {
						o.DownloadDir = dl
					}
				})
				err = e.InstallURL(context.Background(), srv.URL+"/a.mender")
				if n := served.Load(); n > int64(len(body))/2 && tc.extra > 0 {
					t.Errorf("server sent %d of %d bytes before the agent stopped", n, len(body))
				}
				want := tc.want
				if tc.extra > 0 && !tc.otherKey && !dir {
					// Streamed: the artifact reader reads past the
					// end-of-archive marker only as far as padding may go,
					// and refuses the rest (update/artifact drainTail).
					want = "padding after the end-of-archive marker"
				}
				if !errors.Is(err, ErrFailed) || !strings.Contains(e.Journal().Reason, want) {
					t.Fatalf("install: %v, reason %q, want %q", err, e.Journal().Reason, want)
				}
				if b, _ := os.ReadFile(w.slots.B.Device); (tc.extra == 0 || tc.otherKey) && !bytes.Equal(b, slotB) {
					t.Error("slot B written")
				}
				notArmed(t, w, before)
			})
		}
	}
}
