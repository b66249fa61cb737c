package handoff

import (
	"strings"
	"testing"
)

const hexDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// metaCases are the table of DecodeMeta and the seeds of FuzzDecodeMeta.
var metaCases = []struct {
	name, in, err string // err "" means valid
}{
	{"command", `{"format":1,"id":"1-a","kind":"command","size":200,"created_at":"2026-12-03T14:00:00Z"}`, ""},
	{"artifact for a command", `{"format":1,"id":"2-b","kind":"artifact","size":5,"created_at":"2026-12-03T14:00:00Z","source":"https://h/a","digest":"` + hexDigest + `","command":"1-a"}`, ""},
	{"artifact for a deployment", `{"format":1,"id":"2-b","kind":"artifact","size":5,"created_at":"2026-12-03T14:00:00Z","deployment":"dep-7"}`, ""},
	{"download failed", `{"format":1,"id":"2-b","kind":"artifact","size":0,"created_at":"2026-12-03T14:00:00Z","command":"1-a","error":"HTTP 404"}`, ""},
	{"format 2", `{"format":2,"id":"1-a","kind":"command","size":2,"created_at":"2026-12-03T14:00:00Z"}`, "format 2"},
	{"path in id", `{"format":1,"id":"../x","kind":"command","size":2,"created_at":"2026-12-03T14:00:00Z"}`, `id "../x"`},
	{"no time", `{"format":1,"id":"1-a","kind":"command","size":2}`, "created_at"},
	{"negative size", `{"format":1,"id":"1-a","kind":"command","size":-1,"created_at":"2026-12-03T14:00:00Z"}`, "negative"},
	{"command with source", `{"format":1,"id":"1-a","kind":"command","size":2,"source":"x","created_at":"2026-12-03T14:00:00Z"}`, "only its envelope"},
	{"artifact for both", `{"format":1,"id":"2-b","kind":"artifact","size":5,"created_at":"2026-12-03T14:00:00Z","command":"1-a","deployment":"d"}`, "exactly one"},
	{"artifact for nobody", `{"format":1,"id":"2-b","kind":"artifact","size":5,"created_at":"2026-12-03T14:00:00Z"}`, "exactly one"},
	{"bad digest", `{"format":1,"id":"2-b","kind":"artifact","size":5,"created_at":"2026-12-03T14:00:00Z","deployment":"d","digest":"md5:00"}`, "digest"},
	{"control characters", `{"format":1,"id":"2-b","kind":"artifact","size":5,"created_at":"2026-12-03T14:00:00Z","deployment":"d\u0007"}`, "printable"},
	{"huge artifact", `{"format":1,"id":"2-b","kind":"artifact","size":99999999999,"created_at":"2026-12-03T14:00:00Z","deployment":"d"}`, "want 1 to"},
	{"trailing data", `{"format":1,"id":"1-a","kind":"command","size":2,"created_at":"2026-12-03T14:00:00Z"} {}`, "after the JSON"},
	{"duplicate id", `{"format":1,"id":"1-a","id":"../x","kind":"command","size":2,"created_at":"2026-12-03T14:00:00Z"}`, `duplicate key "id"`},
	{"kind twice in two cases", `{"format":1,"id":"2-b","kind":"command","KIND":"artifact","size":5,"created_at":"2026-12-03T14:00:00Z","deployment":"d"}`, "differ only in case"},
	{"not an object", `[1,2]`, "item.json"},
	{"empty", ``, "item.json"},
	{"too long", `{"format":1,"id":"1-a","kind":"command","size":2,"created_at":"2026-12-03T14:00:00Z","x":"` + strings.Repeat("a", MaxMetaBytes) + `"}`, "limit"},
}

func TestDecodeMeta(t *testing.T) {
	for _, tc := range metaCases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := DecodeMeta([]byte(tc.in))
			if tc.err == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if m.Format != Format || !ValidID(m.ID) {
					t.Errorf("decoded %+v", m)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("error %v, want one saying %q", err, tc.err)
			}
		})
	}
}

// FuzzDecodeMeta: whatever a producer writes, DecodeMeta returns an error
// or a Meta that keeps the rules (and survives a round trip).
func FuzzDecodeMeta(f *testing.F) {
	for _, tc := range metaCases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMeta(b)
		if err != nil {
			return
		}
		if err := m.Check(DefaultMaxArtifactBytes); err != nil {
			t.Fatalf("decoded a meta that fails Check: %v", err)
		}
		enc, err := encodeMeta(&m)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		m2, err := DecodeMeta(enc)
		if err != nil || m2 != m {
			t.Fatalf("round trip: %+v, %v; want %+v", m2, err, m)
		}
	})
}

// FuzzDecodeUplinkStatus: the uplink's status file never crashes acquire.
func FuzzDecodeUplinkStatus(f *testing.F) {
	f.Add([]byte(`{"format":1,"connected":true,"broker":"tls://b:8883","since":"2026-12-03T14:00:00Z","updated":"2026-12-03T14:00:05Z"}`))
	f.Add([]byte(`{"format":1,"connected":false,"waiting":"x","updated":"2026-12-03T14:00:05Z"}`))
	f.Add([]byte(`{"format":1,"connected":"yes"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeUplinkStatus(b)
		if err == nil && (s.Format != Format || len(s.Waiting) > maxText) {
			t.Fatalf("accepted %+v", s)
		}
	})
}

// FuzzDecodeState: a state file (acquire's, read by producers such as the
// fleet client) never crashes its reader, and what decodes keeps the rules.
func FuzzDecodeState(f *testing.F) {
	f.Add([]byte(`{"format":1,"id":"1-a","kind":"command","phase":"fetch","name":"update","nonce":"AAAA","fetch":{"url":"https://h/a","digest":"` + hexDigest + `"},"updated":"2026-12-03T14:00:00Z"}`))
	f.Add([]byte(`{"format":1,"id":"2-b","kind":"artifact","phase":"failure","reason":"bad signature","command":"1-a","updated":"2026-12-03T14:00:00Z"}`))
	f.Add([]byte(`{"format":1,"id":"2-b","phase":"fetch","updated":"2026-12-03T14:00:00Z"}`))
	f.Add([]byte(`{"format":2}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeState(b)
		if err != nil {
			return
		}
		if !ValidID(s.ID) || !s.Phase.valid() || (s.Phase == Fetch && s.Fetch == nil) {
			t.Fatalf("accepted %+v", s)
		}
	})
}
