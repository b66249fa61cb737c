package command

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"medagent/internal/durable"
)

const nonceFormat = 1

// nonceStore maps accepted nonces (base64) to their command's expiry.
type nonceStore struct {
	path string
	m    map[string]int64
	high int64 // latest wall clock (Unix s) at which a command was accepted
}

type nonceFile struct {
	Format int              `json:"format"`
	Nonces map[string]int64 `json:"nonces"`
	High   int64            `json:"high_water"`
}

func loadNonces(path string) (*nonceStore, error) {
	s := &nonceStore{path: path, m: map[string]int64{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("command: read nonce store: %w", err)
	}
	var f nonceFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		// Fail closed: a lost store would reopen the replay window.
		return nil, fmt.Errorf("command: nonce store %s is corrupt (%v); refusing to start without replay protection", path, err)
	}
	if f.Format != nonceFormat {
		return nil, fmt.Errorf("command: nonce store %s has format %d, want %d", path, f.Format, nonceFormat)
	}
	if f.Nonces != nil {
		s.m = f.Nonces
	}
	s.high = f.High
	return s, nil
}

// after returns the later of now and the high-water mark.
func (s *nonceStore) after(now time.Time) time.Time {
	if h := time.Unix(s.high, 0); h.After(now) {
		return h
	}
	return now
}

// add records nonce unless seen; entries whose command expired more than
// skew before the high-water time are pruned first. The store is written
// before add returns.
func (s *nonceStore) add(now time.Time, skew time.Duration, nonce []byte, expires int64, max int) error {
	high := s.after(now)
	cutoff := high.Add(-skew)
	key := base64.StdEncoding.EncodeToString(nonce)
	if _, seen := s.m[key]; seen {
		return fmt.Errorf("%w: %s", ErrReplay, key)
	}
	next := make(map[string]int64, len(s.m)+1)
	for k, exp := range s.m {
		if exp >= cutoff.Unix() {
			next[k] = exp
		}
	}
	if len(next) >= max {
		return fmt.Errorf("%w: %d unexpired nonces", ErrNonceStoreFull, len(next))
	}
	next[key] = expires
	b, err := json.Marshal(nonceFile{Format: nonceFormat, Nonces: next, High: high.Unix()})
	if err != nil {
		return fmt.Errorf("command: encode nonce store: %w", err)
	}
	if err := durable.WriteFile(s.path, b, 0o600); err != nil {
		return fmt.Errorf("command: save nonce store: %w", err)
	}
	s.m, s.high = next, high.Unix()
	return nil
}

func (s *nonceStore) len() int { return len(s.m) }
