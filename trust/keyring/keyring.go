package keyring

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"

	"medagent/internal/durable"
	"medagent/trust/command"
)

const format = 1

// Sets.
const (
	CommandSet = "command"
	UpdateSet  = "update"
)

// ErrRefused is wrapped by Apply's refusals.
var ErrRefused = errors.New("keyring: change refused")

// ErrEd25519Update refuses an Ed25519 update-signing key: Mender artifacts
// are signed with RSA or ECDSA P-256 (mender-artifact 3.9 cannot sign with
// Ed25519) and the artifact verifier checks only those, so such a key
// could never verify an update.
var ErrEd25519Update = errors.New("Ed25519 is not an update-signing algorithm here (artifacts are verified with RSA or ECDSA P-256)")

// Key is a named public key.
type Key struct {
	ID        string `json:"id"`
	PublicKey []byte `json:"public_key"` // DER SubjectPublicKeyInfo, base64 in JSON
}

type file struct {
	Format      int   `json:"format"`
	Version     int   `json:"version"`
	CommandKeys []Key `json:"command_keys"`
	UpdateKeys  []Key `json:"update_keys"`
}

// Ring is the loaded store. It is safe for concurrent use.
type Ring struct {
	path string
	mu   sync.RWMutex
	f    file
	cmd  map[string]crypto.PublicKey
	upd  []crypto.PublicKey
	// ignored: stored keys left out of the trusted sets (see Ignored).
	ignored []string
	// key authenticates the sealed copy (Open); nil for a plain keyring
	// (Create, Load).
	key []byte
	// anchor records the sealed version (Open with an anchor), or nil.
	anchor Anchor
}

// Create writes a new store (version 1) at path; it fails if path exists.
func Create(path string, commandKeys, updateKeys []Key) (*Ring, error) {
	if _, err := os.Stat(path); err == nil {
		return nil, fmt.Errorf("keyring: %s exists; refusing to overwrite the trust store", path)
	}
	r := &Ring{path: path}
	if err := r.set(file{Format: format, Version: 1, CommandKeys: commandKeys, UpdateKeys: updateKeys}); err != nil {
		return nil, err
	}
	_, err := r.save()
	return r, err
}

// Load reads the store at path.
func Load(path string) (*Ring, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f file
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("keyring: %s: %w", path, err)
	}
	if f.Format != format {
		return nil, fmt.Errorf("keyring: %s has format %d, want %d", path, f.Format, format)
	}
	r := &Ring{path: path}
	if err := r.setKeys(f, true); err != nil {
		return nil, fmt.Errorf("keyring: %s: %w", path, err)
	}
	return r, nil
}

// set parses and checks f and makes it current (strict: every key must be
// usable).
func (r *Ring) set(f file) error { return r.setKeys(f, false) }

// setKeys is set; with tolerant (Load) an Ed25519 update key written by an
// older agent is left out of the trusted set and reported by Ignored
// instead of failing the whole store (it never verified anything).
func (r *Ring) setKeys(f file, tolerant bool) error {
	var ignored []string
	cmd := map[string]crypto.PublicKey{}
	var upd []crypto.PublicKey
	for _, s := range []struct {
		name string
		keys []Key
	}{{CommandSet, f.CommandKeys}, {UpdateSet, f.UpdateKeys}} {
		if len(s.keys) == 0 {
			return fmt.Errorf("keyring: no %s keys", s.name)
		}
		seen := map[string]bool{}
		for _, k := range s.keys {
			if k.ID == "" || seen[k.ID] {
				return fmt.Errorf("keyring: %s key id %q empty or repeated", s.name, k.ID)
			}
			seen[k.ID] = true
			pub, err := parseKey(s.name, k.PublicKey)
			if tolerant && errors.Is(err, ErrEd25519Update) {
				ignored = append(ignored, fmt.Sprintf("update key %q ignored: %v", k.ID, err))
				continue
			}
			if err != nil {
				return fmt.Errorf("keyring: %s key %q: %w", s.name, k.ID, err)
			}
			if s.name == CommandSet {
				cmd[k.ID] = pub
			} else {
				upd = append(upd, pub)
			}
		}
	}
	if len(upd) == 0 {
		return fmt.Errorf("keyring: no usable update keys (%v)", ignored)
	}
	r.f, r.cmd, r.upd, r.ignored = f, cmd, upd, ignored
	return nil
}

// Ignored lists the stored keys Load left out of the trusted sets, and why.
func (r *Ring) Ignored() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return append([]string(nil), r.ignored...)
}

func parseKey(set string, der []byte) (crypto.PublicKey, error) {
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, err
	}
	if set == CommandSet {
		return pub, command.CheckKey(pub)
	}
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return nil, errors.New("ECDSA key not on P-256")
		}
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return nil, fmt.Errorf("RSA key of %d bits, want at least 2048", k.N.BitLen())
		}
	case ed25519.PublicKey:
		return nil, ErrEd25519Update
	default:
		return nil, fmt.Errorf("key type %T not allowed", pub)
	}
	return pub, nil
}

// save writes the keyring: the sealed copy first when there is one (it is
// what counts: a power cut between the two leaves the change in force and
// the plain file rewritten at the next Open), then the plain file.
// committed says whether the change is in force despite an error (the
// sealed copy was written, the plain file was not).
func (r *Ring) save() (committed bool, err error) {
	if r.key != nil {
		if err := r.seal(); err != nil {
			return false, err
		}
		if err := r.raiseAnchor(); err != nil {
			return true, fmt.Errorf("%w (the change is sealed and in force; the version is recorded at the next start)", err)
		}
		if err := r.writeView(); err != nil {
			return true, fmt.Errorf("%w (the change is sealed and in force; the plain file is rewritten at the next start)", err)
		}
		return true, nil
	}
	err = r.writeView()
	return err == nil, err
}

// writeView writes the plain JSON file (what provisioning writes and
// people read).
func (r *Ring) writeView() error {
	b, err := json.MarshalIndent(r.f, "", "  ")
	if err != nil {
		return fmt.Errorf("keyring: encode: %w", err)
	}
	if err := durable.WriteFile(r.path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("keyring: save: %w", err)
	}
	return nil
}

// CommandKey implements command.Keys.
func (r *Ring) CommandKey(id string) (crypto.PublicKey, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	k, ok := r.cmd[id]
	return k, ok
}

// UpdateKeys returns the update-signing keys.
func (r *Ring) UpdateKeys() []crypto.PublicKey {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return append([]crypto.PublicKey(nil), r.upd...)
}

// Version returns the store version.
func (r *Ring) Version() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.f.Version
}

// Apply performs a verified config command's keyring change (see the
// package doc) and saves the store durably before the change takes effect
// in memory. Commands without keyring.* arguments are not for the keyring
// and return (false, nil).
func (r *Ring) Apply(c command.Command) (bool, error) {
	if c.Name != command.Config {
		return false, nil
	}
	a := c.Args
	vs, ok := a["keyring.version"]
	if !ok {
		return false, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	refuse := func(f string, x ...any) (bool, error) {
		return true, fmt.Errorf("%w: "+f, append([]any{ErrRefused}, x...)...)
	}
	v, err := strconv.Atoi(vs)
	if err != nil || v != r.f.Version+1 {
		return refuse("keyring.version %q, want %d", vs, r.f.Version+1)
	}
	next := r.f
	next.Version = v
	var list *[]Key
	switch a["keyring.set"] {
	case CommandSet:
		next.CommandKeys = append([]Key(nil), r.f.CommandKeys...)
		list = &next.CommandKeys
	case UpdateSet:
		// The authority to sign firmware is not the authority to send
		// commands: the change must also be signed by a current update key.
		if err := verifyUpdateChange(a, r.upd); err != nil {
			return refuse("%v", err)
		}
		next.UpdateKeys = append([]Key(nil), r.f.UpdateKeys...)
		list = &next.UpdateKeys
	default:
		return refuse("keyring.set %q, want command or update", a["keyring.set"])
	}
	addID, retireID := a["keyring.add_id"], a["keyring.retire_id"]
	if addID == "" && retireID == "" {
		return refuse("neither keyring.add_id nor keyring.retire_id")
	}
	if addID != "" {
		der, err := decodeB64(a["keyring.add_key"])
		if err != nil {
			return refuse("keyring.add_key: %v", err)
		}
		if _, err := parseKey(a["keyring.set"], der); err != nil {
			return refuse("keyring.add_key %q: %v", addID, err)
		}
		for _, k := range *list {
			if k.ID == addID {
				return refuse("key id %q already present", addID)
			}
		}
		*list = append(*list, Key{ID: addID, PublicKey: der})
	}
	if retireID != "" {
		i := indexOf(*list, retireID)
		if i < 0 {
			return refuse("no key %q to retire", retireID)
		}
		*list = append((*list)[:i], (*list)[i+1:]...)
	}
	old, oldIgnored := r.f, r.ignored
	restore := func() {
		r.setKeys(old, true)
		r.ignored = oldIgnored
	}
	if err := r.setKeys(next, true); err != nil { // also refuses an empty set
		restore()
		return refuse("%v", err)
	}
	if committed, err := r.save(); err != nil {
		if !committed {
			restore()
		}
		return true, err
	}
	return true, nil
}

func indexOf(keys []Key, id string) int {
	for i, k := range keys {
		if k.ID == id {
			return i
		}
	}
	return -1
}
