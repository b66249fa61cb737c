package engine

import (
	"errors"
	"fmt"

	"medagent/trust/floor"
)

// FloorStore keeps the anti-rollback version floor (trust/floor).
type FloorStore interface {
	Floor() (v floor.Version, ok bool, err error)
	Raise(v floor.Version) error
}

// ErrBelowFloor: the artifact is older than the device's version floor.
var ErrBelowFloor = errors.New("artifact version below the device's version floor (anti-rollback)")

// InstallOptions change one install.
type InstallOptions struct {
	// Downgrade lets an artifact below the version floor install. Only a
	// signed command may set it, and it names the exact artifact.
	Downgrade *Downgrade
}

// Downgrade names the one artifact a signed command allows below the
// floor: its artifact_name and, when set, its payload's SHA-256 from the
// signed manifest (hex), which must match too.
type Downgrade struct {
	Artifact      string `json:"artifact"`
	PayloadSHA256 string `json:"payload_sha256,omitempty"`
}

// checkFloor decides whether the artifact name with provides may install
// against the floor; it returns the artifact's version text ("" when it
// has none) and why not.
func (e *Engine) checkFloor(name string, provides map[string]string, dg *Downgrade) (string, error) {
	v, verr := floor.Of(name, provides)
	text := ""
	if verr == nil {
		text = v.String()
	}
	cur, have, ferr := e.o.Floor.Floor()
	allowed := dg != nil && dg.Artifact == name
	switch {
	case dg != nil && !allowed:
		return text, fmt.Errorf("the signed downgrade names artifact %q, this is %q", dg.Artifact, name)
	case ferr != nil && !allowed:
		return text, fmt.Errorf("the version floor cannot be trusted (%v); no install until it is repaired by a signed downgrade command: %w", ferr, ErrBelowFloor)
	case !have || allowed:
		return text, nil
	case verr != nil:
		return text, fmt.Errorf("artifact %q carries no version and the device's floor is %s: %w", name, cur, ErrBelowFloor)
	case v.Compare(cur) < 0:
		return text, fmt.Errorf("artifact %q is version %s, the device's floor is %s (a downgrade needs a signed command naming this artifact): %w", name, v, cur, ErrBelowFloor)
	}
	return text, nil
}

// raiseFloor raises the floor to the committed artifact's version.
func (e *Engine) raiseFloor(j Journal) {
	if j.ArtifactVersion == "" {
		return
	}
	v, err := floor.Parse(j.ArtifactVersion)
	if err == nil {
		if cur, ok, ferr := e.o.Floor.Floor(); ferr == nil && ok && v.Compare(cur) <= 0 {
			return // not higher: nothing to raise
		}
		err = e.o.Floor.Raise(v)
	}
	if err != nil {
		e.log.Error("raising the version floor after a commit failed", "artifact", j.Artifact, "version", j.ArtifactVersion, "err", err)
		e.audit("update.floor_raise_failed", map[string]string{"version": j.ArtifactVersion, "reason": err.Error()})
		return
	}
	e.audit("update.floor_raised", map[string]string{"version": v.String(), "artifact": j.Artifact})
}
