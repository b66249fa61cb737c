package spool

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"medagent/telemetry"
)

func testAEAD(t testing.TB) cipher.AEAD {
	t.Helper()
	b, err := aes.NewCipher(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

var frameCases = []struct {
	name string
	e    entry
}{
	{"small", entry{Stream: "hr", Seq: 1, Time: time.Unix(1700000000, 123), Payload: []byte("x")}},
	{"empty payload", entry{Stream: "MDC_ECG_HEART_RATE", Seq: 42, Time: time.Unix(0, 0), Payload: []byte{}}},
	{"max stream", entry{Stream: strings.Repeat("s", MaxStreamLen), Seq: 1 << 40, Time: time.Unix(1800000000, 0), Payload: bytes.Repeat([]byte{0xd5, 'S', 'F', '1'}, 50)}},
	{"binary payload", entry{Stream: "spo2", Seq: 7, Time: time.Unix(1700000001, 999999999), Payload: []byte{0, 1, 2, 0xff, 0xd5}}},
}

func TestFrameRoundTrip(t *testing.T) {
	for _, tc := range frameCases {
		for _, enc := range []bool{false, true} {
			t.Run(tc.name+map[bool]string{false: "/plain", true: "/aes"}[enc], func(t *testing.T) {
				var aead cipher.AEAD
				if enc {
					aead = testAEAD(t)
				}
				var adb [adLen]byte
				ad := frameAD(&adb, telemetry.ClassAlarm, 3, 96)
				b, err := appendFrame([]byte("prefix"), tc.e, aead, ad)
				if err != nil {
					t.Fatal(err)
				}
				b = b[len("prefix"):]
				if got, want := len(b), frameLen(len(tc.e.Stream), len(tc.e.Payload), enc); got != want {
					t.Fatalf("frame length %d, frameLen says %d", got, want)
				}
				body, n, err := parseFrame(append(b, 1, 2, 3))
				if err != nil || n != len(b) {
					t.Fatalf("parseFrame = %d, %v; want %d, nil", n, err, len(b))
				}
				got, _, err := decodeBody(body, aead, ad, nil)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tc.e, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) }), cmp.Comparer(func(a, b []byte) bool { return bytes.Equal(a, b) })); diff != "" {
					t.Errorf("decoded entry (-want +got):\n%s", diff)
				}
				if enc {
					if bytes.Contains(b, []byte(tc.e.Stream)) && len(tc.e.Stream) > 3 {
						t.Errorf("stream name in clear in encrypted frame")
					}
					// Another place in the spool must not authenticate.
					other := frameAD(&[adLen]byte{}, telemetry.ClassAlarm, 3, 97)
					if _, _, err := decodeBody(body, aead, other, nil); !errors.Is(err, errCorrupt) {
						t.Errorf("decode with wrong position: %v, want errCorrupt", err)
					}
				}
				// Every strict prefix is incomplete, never a frame.
				for k := range len(b) {
					if _, _, err := parseFrame(b[:k]); !errors.Is(err, errIncomplete) {
						t.Fatalf("prefix %d/%d: %v, want errIncomplete", k, len(b), err)
					}
				}
				// Every single-byte flip is detected.
				for k := range len(b) {
					c := bytes.Clone(b)
					c[k] ^= 0x40
					body, _, err := parseFrame(c)
					if err == nil {
						if _, _, err = decodeBody(body, aead, ad, nil); err == nil {
							t.Fatalf("flip at %d not detected", k)
						}
					}
				}
			})
		}
	}
}

func TestAppendFrameRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		e    entry
	}{
		{"empty stream", entry{Stream: "", Seq: 1}},
		{"long stream", entry{Stream: strings.Repeat("a", MaxStreamLen+1), Seq: 1}},
		{"big payload", entry{Stream: "a", Seq: 1, Payload: make([]byte, MaxPayload+1)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := appendFrame(nil, tc.e, nil, nil); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func FuzzFrame(f *testing.F) {
	aead := testAEAD(f)
	var adb [adLen]byte
	ad := frameAD(&adb, telemetry.ClassEvent, 1, 40)
	for _, tc := range frameCases {
		b, _ := appendFrame(nil, tc.e, nil, nil)
		f.Add(b, false)
		b, _ = appendFrame(nil, tc.e, aead, ad)
		f.Add(b, true)
	}
	f.Add([]byte{0xd5, 'S', 'F', '1', 0xff, 0xff, 0xff, 0xff}, false)
	f.Fuzz(func(t *testing.T, b []byte, enc bool) {
		var a cipher.AEAD
		if enc {
			a = aead
		}
		body, n, err := parseFrame(b)
		if err != nil {
			if !errors.Is(err, errCorrupt) && !errors.Is(err, errIncomplete) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if n > len(b) || n != frameHeaderLen+len(body) {
			t.Fatalf("n=%d body=%d len=%d", n, len(body), len(b))
		}
		e, _, err := decodeBody(body, a, ad, nil)
		if err != nil {
			return
		}
		if enc {
			return // re-encryption uses a fresh nonce; nothing to compare
		}
		re, err := appendFrame(nil, e, nil, nil)
		if err != nil {
			t.Fatalf("decoded entry does not re-encode: %v", err)
		}
		if !bytes.Equal(re, b[:n]) {
			t.Fatalf("re-encoding differs:\n%x\n%x", re, b[:n])
		}
	})
}
