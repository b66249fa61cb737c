package mender

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"strings"
	"testing"
	"time"

	"medagent/mender/mendertest"
)

// TestAuthKeys: the auth request signed by RSA and ECDSA P-256 device keys
// verifies at the server; other keys are refused when the client is made.
func TestAuthKeys(t *testing.T) {
	rsa2048, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	cases := []struct {
		name   string
		key    crypto.Signer
		refuse string
	}{
		{"RSA 2048", rsa2048, ""},
		{"ECDSA P-256", p256, ""},
		{"RSA 1024", rsa1024, "at least 2048"},
		{"ECDSA P-384", p384, "want P-256"},
		{"Ed25519", ed, "want RSA or ECDSA P-256"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, mendertest.Options{AcceptAll: true})
			r.signer = c.key
			cl, err := New(r.opts, "MA-0001", r.signer, r.keys, r.acq.p, r.dev, discard())
			if c.refuse != "" {
				if err == nil || !strings.Contains(err.Error(), c.refuse) {
					t.Fatalf("New = %v, want %q", err, c.refuse)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			tok, err := cl.token(ctx)
			if err != nil || tok == "" {
				t.Fatalf("token = %q, %v", tok, err)
			}
			if d := r.device(); !strings.Contains(d.IDData, `"device_id":"MA-0001"`) {
				t.Errorf("id_data = %s", d.IDData)
			}
			checkSpec(t, r)
		})
	}
}

func TestParseToken(t *testing.T) {
	for _, c := range tokenCases {
		got, err := parseToken([]byte(c.in))
		if (err == nil) != c.ok || (c.ok && got != c.want) {
			t.Errorf("parseToken(%q) = %q, %v; want ok=%v %q", c.in, got, err, c.ok, c.want)
		}
	}
}

const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"

var tokenCases = []struct {
	in   string
	ok   bool
	want string
}{
	{jwt, true, jwt},
	{`"` + jwt + `"`, true, jwt},
	{jwt + "\n", true, jwt},
	{`{"token":"x"}`, false, ""},
	{"a.b", false, ""},
	{"!!.eyJ9.x", false, ""},
	{`"unterminated`, false, ""},
}

func FuzzParseToken(f *testing.F) {
	for _, c := range tokenCases {
		f.Add([]byte(c.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tok, err := parseToken(b)
		if err == nil && (strings.Count(tok, ".") != 2 || len(tok) > 16<<10) {
			t.Fatalf("accepted %q", tok)
		}
	})
}

var rangeCases = []struct {
	in          string
	start, size int64
	ok          bool
}{
	{"bytes 0-99/100", 0, 100, true},
	{"bytes 1048576-2097151/2097152", 1048576, 2097152, true},
	{"bytes */100", 0, 100, true},
	{"bytes -1-5/10", 0, 0, false},
	{"items 0-1/2", 0, 0, false},
	{"bytes 0-1/x", 0, 0, false},
	{"bytes 0-1", 0, 0, false},
}

func TestContentRange(t *testing.T) {
	for _, c := range rangeCases {
		s, n, ok := contentRange(c.in)
		if ok != c.ok || (ok && (s != c.start || n != c.size)) {
			t.Errorf("contentRange(%q) = %d, %d, %v", c.in, s, n, ok)
		}
	}
}

func FuzzContentRange(f *testing.F) {
	for _, c := range rangeCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, h string) {
		if s, n, ok := contentRange(h); ok && (s < 0 || n < 0) {
			t.Fatalf("%q: negative %d %d", h, s, n)
		}
	})
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"": 0, "1": time.Second, "120": 2 * time.Minute, "-5": 0, "99999": time.Hour, "soon": 0,
		now.Add(30 * time.Second).Format(http.TimeFormat): 30 * time.Second,
	} {
		if got := retryAfter(in, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

var instructionCases = []struct {
	in string
	ok bool
}{
	{`{"id":"d1","artifact":{"artifact_name":"r2","source":{"uri":"https://s/x","expire":"2026-12-03T12:00:00Z"},"device_types_compatible":["bedside"]}}`, true},
	{`{"id":"d1","artifact":{"artifact_name":"r2","source":{"uri":"http://s/x"},"device_types_compatible":["bedside"]}}`, false},
	{`{"id":"","artifact":{"artifact_name":"r2","source":{"uri":"https://s/x"}}}`, false},
	{`{"id":"d1","artifact":{"artifact_name":"r2","source":{"uri":"https://s/x","expire":"not a time"}}}`, false},
	{`null`, false},
	{`[]`, false},
}

func TestDecodeInstructions(t *testing.T) {
	for _, c := range instructionCases {
		if _, err := decodeInstructions([]byte(c.in)); (err == nil) != c.ok {
			t.Errorf("decodeInstructions(%s) = %v, want ok=%v", c.in, err, c.ok)
		}
	}
}

func FuzzDecodeInstructions(f *testing.F) {
	for _, c := range instructionCases {
		f.Add([]byte(c.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := decodeInstructions(b)
		if err == nil && (d.ID == "" || d.Artifact.Name == "" || !strings.HasPrefix(d.Artifact.Source.URI, "https:")) {
			t.Fatalf("accepted %+v", d)
		}
	})
}
