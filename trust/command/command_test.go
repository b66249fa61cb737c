package command

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)

type fixture struct {
	ec, ed, rogue crypto.Signer
	v             *Verifier
	nonceFile     string
	keys          StaticKeys
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rogue, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{ec: ec, ed: ed, rogue: rogue, nonceFile: filepath.Join(t.TempDir(), "nonces.json")}
	f.keys = StaticKeys{"ops-ec": ec.Public(), "ops-ed": ed.Public()}
	f.v = f.reopen(t)
	return f
}

func (f *fixture) reopen(t testing.TB) *Verifier {
	t.Helper()
	v, err := NewVerifier(Options{DeviceID: "MA-0001", Keys: f.keys, NonceFile: f.nonceFile})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func envelope(name string) *Envelope {
	return &Envelope{
		V: Version, Device: "MA-0001", Name: name,
		Args:      map[string]string{"url": "https://updates.example/a.mender"},
		IssuedAt:  t0.Add(-time.Minute).Unix(),
		ExpiresAt: t0.Add(time.Hour).Unix(),
		Nonce:     NewNonce(),
	}
}

func signed(t testing.TB, e *Envelope, id string, k crypto.Signer) []byte {
	t.Helper()
	if err := Sign(e, id, k); err != nil {
		t.Fatal(err)
	}
	return e.Marshal()
}

// refusalCases builds one payload per refusal; FuzzDecode seeds from it too.
func refusalCases(t testing.TB, f *fixture) []struct {
	name    string
	payload []byte
	want    error
} {
	with := func(mod func(e *Envelope)) *Envelope { e := envelope(Update); mod(e); return e }
	tamper := func(mod func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(signed(t, envelope(Update), "ops-ec", f.ec), &m); err != nil {
			t.Fatal(err)
		}
		mod(m)
		b, _ := json.Marshal(m)
		return b
	}
	unsigned := envelope(Reboot)
	unsigned.KeyID = "ops-ec"
	return []struct {
		name    string
		payload []byte
		want    error
	}{
		{"not JSON", []byte("reboot now"), ErrMalformed},
		{"unknown field", tamper(func(m map[string]any) { m["force"] = true }), ErrMalformed},
		{"trailing data", append(signed(t, envelope(Reboot), "ops-ec", f.ec), []byte(`{}`)...), ErrMalformed},
		{"unknown name", signed(t, with(func(e *Envelope) { e.Name = "format-disk" }), "ops-ec", f.ec), ErrMalformed},
		{"short nonce", signed(t, with(func(e *Envelope) { e.Nonce = e.Nonce[:8] }), "ops-ec", f.ec), ErrMalformed},
		{"version 2", signed(t, with(func(e *Envelope) { e.V = 2 }), "ops-ec", f.ec), ErrMalformed},
		{"unsigned", unsigned.Marshal(), ErrUnsigned},
		{"unknown key", signed(t, envelope(Reboot), "ops-rogue", f.rogue), ErrUnknownKey},
		{"rogue key claims known id", signed(t, envelope(Reboot), "ops-ec", f.rogue), ErrBadSignature},
		{"tampered url", tamper(func(m map[string]any) { m["args"] = map[string]any{"url": "https://evil.example/x"} }), ErrBadSignature},
		{"tampered expiry", tamper(func(m map[string]any) { m["expires_at"] = t0.Add(2 * time.Hour).Unix() }), ErrBadSignature},
		{"alg swapped", tamper(func(m map[string]any) { m["alg"] = Ed25519 }), ErrBadSignature},
		{"other device", signed(t, with(func(e *Envelope) { e.Device = "MA-0002" }), "ops-ec", f.ec), ErrWrongDevice},
		{"expired", signed(t, with(func(e *Envelope) {
			e.IssuedAt, e.ExpiresAt = t0.Add(-2*time.Hour).Unix(), t0.Add(-time.Second).Unix()
		}), "ops-ed", f.ed), ErrExpired},
		{"expires now", signed(t, with(func(e *Envelope) { e.ExpiresAt = t0.Unix() }), "ops-ed", f.ed), ErrExpired},
		{"issued in the future", signed(t, with(func(e *Envelope) { e.IssuedAt = t0.Add(10 * time.Minute).Unix() }), "ops-ec", f.ec), ErrNotYetValid},
		{"lifetime overflowing a Duration", signed(t, with(func(e *Envelope) { e.IssuedAt, e.ExpiresAt = 1, 1<<62 }), "ops-ec", f.ec), ErrLifetime},
		{"lifetime too long", signed(t, with(func(e *Envelope) { e.ExpiresAt = t0.Add(30 * 24 * time.Hour).Unix() }), "ops-ec", f.ec), ErrLifetime},
		// Parser differentials: a signed envelope for this device with a
		// second "device" that a first-key-wins reader (the back end's
		// log, an auditor) takes as the address.
		{"duplicate device key", dupKey(signed(t, envelope(Reboot), "ops-ec", f.ec), `"device":"MA-0002",`), ErrMalformed},
		{"duplicate args key", dupKey(signed(t, envelope(Update), "ops-ec", f.ec), `"args":{"url":"https://evil.example/x"},`), ErrMalformed},
		{"device key in upper case", bytes.Replace(signed(t, envelope(Reboot), "ops-ec", f.ec), []byte(`"device"`), []byte(`"DEVICE"`), 1), ErrMalformed},
		{"huge envelope", append(append([]byte(`{"v":1,"device":"`), bytes.Repeat([]byte("A"), MaxEnvelope)...), `"}`...), ErrMalformed},
		{"deeply nested", append(append([]byte(`{"args":`), bytes.Repeat([]byte("["), 10000)...), bytes.Repeat([]byte("]"), 10000)...), ErrMalformed},
	}
}

// dupKey inserts JSON members at the start of an encoded object.
func dupKey(obj []byte, members string) []byte {
	return append([]byte("{"+members), obj[1:]...)
}

// TestReplayOfAnotherCommandWithTheSameNonce: a second, validly signed
// command that reuses an accepted nonce is a replay, whatever it says.
func TestReplayOfAnotherCommandWithTheSameNonce(t *testing.T) {
	f := newFixture(t)
	first := envelope(Diagnostics)
	if _, err := f.v.Verify(t0, signed(t, first, "ops-ec", f.ec)); err != nil {
		t.Fatal(err)
	}
	second := envelope(Reboot)
	second.Nonce = first.Nonce
	if _, err := f.v.Verify(t0, signed(t, second, "ops-ed", f.ed)); !errors.Is(err, ErrReplay) {
		t.Fatalf("err = %v, want ErrReplay", err)
	}
	if _, err := f.reopen(t).Verify(t0.Add(time.Minute), signed(t, second, "ops-ed", f.ed)); !errors.Is(err, ErrReplay) {
		t.Fatalf("after a restart: err = %v, want ErrReplay", err)
	}
}

func TestVerifyRefusals(t *testing.T) {
	f := newFixture(t)
	seen := map[string]bool{}
	for _, c := range refusalCases(t, f) {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.v.Verify(t0, c.payload)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			for _, other := range codes {
				if other.err != c.want && errors.Is(err, other.err) {
					t.Errorf("err %v also matches %v: refusals must be distinct", err, other.err)
				}
			}
			r := ResultFor("MA-0001", t0, c.payload, Command{}, err, nil)
			if r.Status != StatusRefused || r.Code == "" {
				t.Errorf("result %+v, want refused with a code", r)
			}
			seen[r.Code] = true
		})
	}
	if f.v.nonces.len() != 0 {
		t.Fatalf("refused commands recorded %d nonces", f.v.nonces.len())
	}
	if len(seen) != 8 { // all but replay and nonce-store-full, tested below
		t.Errorf("only %d distinct refusal codes: %v", len(seen), seen)
	}
}

func TestVerifyAcceptsOnceAcrossRestart(t *testing.T) {
	f := newFixture(t)
	for _, k := range []struct {
		id string
		s  crypto.Signer
	}{{"ops-ec", f.ec}, {"ops-ed", f.ed}} {
		e := envelope(Update)
		p := signed(t, e, k.id, k.s)
		c, err := f.v.Verify(t0, p)
		if err != nil {
			t.Fatalf("%s: valid command refused: %v", k.id, err)
		}
		if c.Name != Update || c.Args["url"] != e.Args["url"] || c.KeyID != k.id || c.Device != "MA-0001" {
			t.Fatalf("command %+v does not reflect the envelope", c)
		}
		if _, err := f.v.Verify(t0.Add(time.Second), p); !errors.Is(err, ErrReplay) {
			t.Fatalf("%s: replay in the same run: %v, want ErrReplay", k.id, err)
		}
		if _, err := f.reopen(t).Verify(t0.Add(2*time.Second), p); !errors.Is(err, ErrReplay) {
			t.Fatalf("%s: replay after restart: %v, want ErrReplay", k.id, err)
		}
		r := ResultFor("MA-0001", t0, p, c, nil, nil)
		if r.Status != StatusDone || r.Nonce != c.Nonce || r.Name != Update {
			t.Fatalf("result %+v", r)
		}
	}
	// Reformatting the JSON does not change what was signed.
	e := envelope(Reboot)
	e.Args = nil
	p := signed(t, e, "ops-ec", f.ec)
	var m map[string]any
	json.Unmarshal(p, &m)
	p2, _ := json.MarshalIndent(m, "", "   ")
	if _, err := f.v.Verify(t0, p2); err != nil {
		t.Fatalf("re-indented valid command refused: %v", err)
	}
}

func TestNonceStorePrunesAndBounds(t *testing.T) {
	f := newFixture(t)
	v, err := NewVerifier(Options{DeviceID: "MA-0001", Keys: f.keys, NonceFile: f.nonceFile, MaxNonces: 3, MaxLifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	send := func(at time.Time) error {
		e := envelope(Diagnostics)
		e.IssuedAt, e.ExpiresAt = at.Unix(), at.Add(10*time.Minute).Unix()
		_, err := v.Verify(at, signed(t, e, "ops-ec", f.ec))
		return err
	}
	for i := 0; i < 3; i++ {
		if err := send(t0); err != nil {
			t.Fatal(err)
		}
	}
	if err := send(t0); !errors.Is(err, ErrNonceStoreFull) {
		t.Fatalf("4th unexpired nonce: %v, want ErrNonceStoreFull", err)
	}
	// Once those commands expired (plus skew) their nonces go.
	later := t0.Add(10*time.Minute + 3*time.Minute)
	if err := send(later); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if n := v.nonces.len(); n != 1 {
		t.Fatalf("%d nonces kept, want 1 after pruning", n)
	}
}

// TestClockSetBack: after nonces were pruned, setting the clock back to
// when an old command was valid must not make its replay acceptable.
func TestClockSetBack(t *testing.T) {
	f := newFixture(t)
	old := envelope(Reboot)
	p := signed(t, old, "ops-ec", f.ec)
	if _, err := f.v.Verify(t0, p); err != nil {
		t.Fatal(err)
	}
	// A day later another command prunes the old nonce.
	day := t0.Add(24 * time.Hour)
	e := envelope(Diagnostics)
	e.IssuedAt, e.ExpiresAt = day.Unix(), day.Add(time.Hour).Unix()
	if _, err := f.v.Verify(day, signed(t, e, "ops-ec", f.ec)); err != nil {
		t.Fatal(err)
	}
	if f.v.nonces.len() != 1 {
		t.Fatalf("%d nonces, want the old one pruned", f.v.nonces.len())
	}
	// The RTC resets to t0 and the device restarts: the replay is still refused.
	if _, err := f.reopen(t).Verify(t0, p); !errors.Is(err, ErrExpired) {
		t.Fatalf("replay after clock set back: %v, want ErrExpired", err)
	}
}

func TestNonceStoreCorruptFailsClosed(t *testing.T) {
	f := newFixture(t)
	if err := os.WriteFile(f.nonceFile, []byte("{garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewVerifier(Options{DeviceID: "MA-0001", Keys: f.keys, NonceFile: f.nonceFile}); err == nil {
		t.Fatal("corrupt nonce store accepted")
	}
}

func FuzzDecode(f *testing.F) {
	fx := newFixture(f)
	for _, c := range refusalCases(f, fx) {
		f.Add(c.payload)
	}
	f.Add(envelope(Reboot).Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("decode error %v does not wrap ErrMalformed", err)
			}
			return
		}
		// A decoded envelope round-trips to the same canonical bytes.
		e2, err := Decode(e.Marshal())
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if string(e.Canonical()) != string(e2.Canonical()) {
			t.Fatal("canonical encoding changed across a JSON round trip")
		}
	})
}
