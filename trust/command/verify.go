package command

import (
	"crypto"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Refusals; each Verify error wraps exactly one of these.
var (
	ErrMalformed      = errors.New("command: malformed envelope")
	ErrUnsigned       = errors.New("command: unsigned")
	ErrUnknownKey     = errors.New("command: unknown signing key")
	ErrBadSignature   = errors.New("command: bad signature")
	ErrWrongDevice    = errors.New("command: addressed to another device")
	ErrExpired        = errors.New("command: expired")
	ErrNotYetValid    = errors.New("command: issued in the future")
	ErrLifetime       = errors.New("command: lifetime longer than allowed")
	ErrReplay         = errors.New("command: nonce already used (replay)")
	ErrNonceStoreFull = errors.New("command: nonce store full")
)

// Keys looks up a configured command-signing public key by id.
// *keyring.Ring and StaticKeys implement it.
type Keys interface {
	CommandKey(id string) (crypto.PublicKey, bool)
}

// StaticKeys is a fixed key list, id to public key.
type StaticKeys map[string]crypto.PublicKey

// CommandKey implements Keys.
func (s StaticKeys) CommandKey(id string) (crypto.PublicKey, bool) {
	k, ok := s[id]
	return k, ok
}

// Options configure a Verifier.
type Options struct {
	DeviceID string // this device's serial; required
	Keys     Keys   // required
	// NonceFile is where accepted nonces persist; required.
	NonceFile   string
	MaxLifetime time.Duration // default 24 h
	Skew        time.Duration // default 2 min
	MaxNonces   int           // default 10000
}

func (o *Options) ensureDefaults() {
	if o.MaxLifetime <= 0 {
		o.MaxLifetime = 24 * time.Hour
	}
	if o.Skew <= 0 {
		o.Skew = 2 * time.Minute
	}
	if o.MaxNonces <= 0 {
		o.MaxNonces = 10000
	}
}

// Verifier checks envelopes. It is safe for concurrent use.
type Verifier struct {
	o      Options
	mu     sync.Mutex
	nonces *nonceStore
}

// NewVerifier loads the nonce store (creating it when absent).
func NewVerifier(o Options) (*Verifier, error) {
	o.ensureDefaults()
	if o.DeviceID == "" {
		return nil, errors.New("command: no device id configured")
	}
	if o.Keys == nil {
		return nil, errors.New("command: no command keys configured")
	}
	if o.NonceFile == "" {
		return nil, errors.New("command: no nonce file configured")
	}
	ns, err := loadNonces(o.NonceFile)
	if err != nil {
		return nil, err
	}
	return &Verifier{o: o, nonces: ns}, nil
}

// Verify decodes payload and returns the command if the device may obey
// it; the nonce is then recorded durably, so a second Verify of the same
// payload fails with ErrReplay.
func (v *Verifier) Verify(now time.Time, payload []byte) (Command, error) {
	e, err := Decode(payload)
	if err != nil {
		return Command{}, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.check(now, v.nonces.after(now), e); err != nil {
		return Command{}, err
	}
	if err := v.nonces.add(now, v.o.Skew, e.Nonce, e.ExpiresAt, v.o.MaxNonces); err != nil {
		return Command{}, err
	}
	return e.command(), nil
}

// check tests e at wall-clock now; expiry is tested at late, the latest
// time the store has seen, so that a clock set back (an RTC reset) cannot
// revive an expired command whose nonce was pruned.
func (v *Verifier) check(now, late time.Time, e *Envelope) error {
	if e.Alg == "" || len(e.Sig) == 0 {
		return ErrUnsigned
	}
	pub, ok := v.o.Keys.CommandKey(e.KeyID)
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownKey, e.KeyID)
	}
	// The signature first: nothing below may be learned from unsigned data.
	if err := verifySig(pub, e); err != nil {
		return err
	}
	if e.Device != v.o.DeviceID {
		return fmt.Errorf("%w: %q (this is %q)", ErrWrongDevice, e.Device, v.o.DeviceID)
	}
	// In seconds: a Duration of a huge difference would overflow.
	if life := e.ExpiresAt - e.IssuedAt; life > int64(v.o.MaxLifetime/time.Second) {
		return fmt.Errorf("%w: %d s > %s", ErrLifetime, life, v.o.MaxLifetime)
	}
	issued, expires := time.Unix(e.IssuedAt, 0), time.Unix(e.ExpiresAt, 0)
	if issued.After(now.Add(v.o.Skew)) {
		return fmt.Errorf("%w: issued at %s, clock %s", ErrNotYetValid, issued.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if !late.Before(expires) {
		return fmt.Errorf("%w: at %s", ErrExpired, expires.UTC().Format(time.RFC3339))
	}
	return nil
}
