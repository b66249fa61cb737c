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
var openArtifact = func(r io.Reader, pems [][]byte, v Verification, req OpenRequest) (Artifact, error) {
	for _, p := range pems {
		k, err := artifact.ParsePublicKeys(p)
		if err != nil {
			return nil, err
		}
		v.Keys = append(v.Keys, k...)
	}
	return Opener(v)(r, req)
}

// Verification says how Opener checks an artifact.
type Verification struct {
	Keys       []crypto.PublicKey // trusted update-signing keys (required)
	DeviceType string
	// MaxWindow bounds the decompression window (0: 8 MiB, see
	// update/artifact); RequireChunks refuses artifacts without a signed
	// chunk list (verify before write).
	MaxWindow     int64
	RequireChunks bool
}

// Opener returns an OpenFunc that verifies artifacts with update/artifact.
// It fails closed when v has no keys.
func Opener(v Verification) OpenFunc {
	return func(r io.Reader, req OpenRequest) (Artifact, error) {
		if len(v.Keys) == 0 {
			return nil, errors.New("no verification key: refusing to install an unverified artifact")
		}
		ar, err := artifact.NewReader(r, artifact.Options{
			Keys: v.Keys, DeviceType: v.DeviceType, Provides: req.Installed,
			MaxWindow: v.MaxWindow, RequireChunks: v.RequireChunks, MaxPayloadSize: req.MaxPayloadSize,
			// Hash once: with a signed chunk list every byte is checked
			// against it; the slot is re-hashed against the manifest
			// digest whenever this process did not just write it.
			TrustChunks: true,
		})
		if err != nil {
			return nil, err
		}
		// As the Mender client: a rootfs-image payload has exactly one
		// file. Refused here, before a byte of the first reaches a slot.
		if h := ar.Header(); len(h.Payloads) == 1 && h.Payloads[0].Type == RootfsType && len(h.Payloads[0].Files) != 1 {
			return nil, fmt.Errorf("artifact %q: its rootfs-image payload lists %d files %q in the signed manifest, a rootfs update has exactly one: %w",
				h.Name, len(h.Payloads[0].Files), h.Payloads[0].Files, artifact.ErrUnexpectedMember)
		}
		return &menderArtifact{r: ar}, nil
	}
}

// menderArtifact adapts *artifact.Reader to Artifact.
type menderArtifact struct{ r *artifact.Reader }

func (m *menderArtifact) Header() Header {
	h := m.r.Header()
	out := Header{Name: h.Name, Provides: maps.Clone(h.Provides), KeyID: h.KeyID}
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
		if p.Chunks != nil {
			out.PayloadSize = p.Chunks.Size
		}
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
	return Payload{Name: f.Name, Size: f.Size, SHA256: f.SHA256[:], Chunked: f.Chunks != nil,
		Compression: m.r.Header().Payloads[f.Payload].Compression, R: f}, nil
}
