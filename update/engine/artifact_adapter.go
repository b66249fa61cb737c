package engine

import (
	"crypto"
	"errors"
	"fmt"
	"io"
	"maps"

	"medagent/update/artifact"
)

// openArtifact opens an artifact with update/artifact, verifying its
// signature with the PEM public keys and its compatibility with deviceType
// and the installed provides. No keys: refused (fail closed).
var openArtifact = func(r io.Reader, pems [][]byte, deviceType string, installed map[string]string) (Artifact, error) {
	var keys []crypto.PublicKey
	for _, p := range pems {
		k, err := artifact.ParsePublicKeys(p)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k...)
	}
	return Opener(keys, deviceType)(r, installed)
}

// Opener returns an OpenFunc that verifies artifacts with keys for
// deviceType (update/artifact). It fails closed when keys is empty.
func Opener(keys []crypto.PublicKey, deviceType string) OpenFunc {
	return func(r io.Reader, installed map[string]string) (Artifact, error) {
		if len(keys) == 0 {
			return nil, errors.New("no verification key: refusing to install an unverified artifact")
		}
		ar, err := artifact.NewReader(r, artifact.Options{Keys: keys, DeviceType: deviceType, Provides: installed})
		if err != nil {
			return nil, err
		}
		return &menderArtifact{r: ar}, nil
	}
}

// menderArtifact adapts *artifact.Reader to Artifact.
type menderArtifact struct{ r *artifact.Reader }

func (m *menderArtifact) Header() Header {
	h := m.r.Header()
	out := Header{Name: h.Name, Provides: maps.Clone(h.Provides)}
	if out.Provides == nil {
		out.Provides = map[string]string{}
	}
	for _, sc := range h.Scripts {
		out.Scripts = append(out.Scripts, sc.Name)
	}
	switch len(h.Payloads) {
	case 0:
	case 1:
		p := h.Payloads[0]
		out.Type = p.Type
		maps.Copy(out.Provides, p.Provides)
		out.ClearsProvides = p.ClearsProvides
	default:
		out.Type = fmt.Sprintf("%d payloads", len(h.Payloads))
	}
	return out
}

func (m *menderArtifact) Next() (Payload, error) {
	f, err := m.r.Next()
	if err != nil {
		return Payload{}, err
	}
	return Payload{Name: f.Name, Size: f.Size, SHA256: f.SHA256[:], R: f}, nil
}
