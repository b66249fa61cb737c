package remote

import (
	"context"

	"medagent/handoff"
)

// artifact takes an artifact item.
func (s *Service) artifact(ctx context.Context, in *handoff.Incoming) {
	defer in.Close()
	s.fail(handoff.State{ID: in.Meta.ID, Kind: handoff.KindArtifact}, "artifact items are not installed yet")
}
