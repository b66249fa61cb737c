package cli

import (
	"medagent/edge/replay"
	"medagent/internal/cmdline"
	"medagent/trust/provision"
	"medagent/update/artifact"
)

// The commands that live with their domain package.

func replayCmd() *cmdline.Command    { return replay.Cmd() }
func provisionCmd() *cmdline.Command { return provision.Cmd() }

func artifactCmd() *cmdline.Command {
	return &cmdline.Command{
		Name:    "artifact",
		Summary: "inspect or verify a Mender artifact, or make an image's chunk list (offline)",
		Subs:    []*cmdline.Command{artifact.ChunksCmd(), artifact.InspectCmd(), artifact.VerifyCmd()},
	}
}
