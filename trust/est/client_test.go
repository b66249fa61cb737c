package est

import (
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestSimpleReenrollResponses(t *testing.T) {
	p7, err := MarshalCertsOnly(testCerts(t))
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString(p7)
	// RFC 7030 servers often wrap base64 at 64 columns.
	var wrapped strings.Builder
	for i := 0; i < len(b64); i += 64 {
		wrapped.WriteString(b64[i:min(i+64, len(b64))] + "\r\n")
	}
	type reply struct {
		status int
		ctype  string
		hdr    map[string]string
		body   string
	}
	cases := []struct {
		name    string
		r       reply
		wantErr string
		retry   time.Duration
	}{
		{"ok", reply{200, "application/pkcs7-mime; smime-type=certs-only", nil, b64}, "", 0},
		{"ok wrapped", reply{200, "application/pkcs7-mime", nil, wrapped.String()}, "", 0},
		{"retry later", reply{202, "", map[string]string{"Retry-After": "120"}, ""}, "retry", 2 * time.Minute},
		{"forbidden", reply{403, "text/plain", nil, "subject mismatch"}, "HTTP 403", 0},
		{"wrong type", reply{200, "text/html", nil, b64}, "Content-Type", 0},
		{"not base64", reply{200, "application/pkcs7-mime", nil, "%%%"}, "base64", 0},
		{"not pkcs7", reply{200, "application/pkcs7-mime", nil, base64.StdEncoding.EncodeToString([]byte("hello"))}, "PKCS#7", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var gotBody, gotType string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				gotBody, gotType = string(b), r.Header.Get("Content-Type")
				if r.URL.Path != Path || r.Method != http.MethodPost {
					http.NotFound(w, r)
					return
				}
				for k, v := range c.r.hdr {
					w.Header().Set(k, v)
				}
				if c.r.ctype != "" {
					w.Header().Set("Content-Type", c.r.ctype)
				}
				w.WriteHeader(c.r.status)
				io.WriteString(w, c.r.body)
			}))
			defer srv.Close()
			cl := &Client{URL: srv.URL, HTTP: srv.Client()}
			chain, err := cl.SimpleReenroll(t.Context(), []byte{0x30, 0x00})
			if gotType != "application/pkcs10" || gotBody != base64.StdEncoding.EncodeToString([]byte{0x30, 0x00}) {
				t.Fatalf("request type %q body %q", gotType, gotBody)
			}
			if c.wantErr == "" {
				if err != nil || strings.Count(string(chain), "BEGIN CERTIFICATE") != 2 {
					t.Fatalf("chain %q, %v", chain, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("err %v, want it to mention %q", err, c.wantErr)
			}
			var rl *RetryLaterError
			if c.retry != 0 && (!errors.As(err, &rl) || rl.After != c.retry) {
				t.Fatalf("err %v, want RetryLaterError after %s", err, c.retry)
			}
		})
	}
}
