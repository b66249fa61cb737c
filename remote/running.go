package remote

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"

	"medagent/handoff"
)

// runningState is what publishRunning last wrote or reported.
type runningState struct {
	written handoff.Running
	err     string
}

// publishRunning writes the running software into the hand-off's state
// directory for the uplink when it changed (and once at start): the
// provides of the artifact the update engine last committed, else those
// of the root file system's artifact_info. A failure is logged once per
// distinct reason.
func (s *Service) publishRunning(last *runningState) {
	prov, src, err := s.running()
	if err == nil && maps.Equal(prov, last.written.Provides) && src == last.written.Source {
		return
	}
	if err == nil {
		r := handoff.Running{Provides: prov, Source: src, Updated: s.o.Now().UTC()}
		if err = s.c.WriteRunning(r); err == nil {
			last.written, last.err = r, ""
			s.log.Info("hand-off: running software published for the uplink", "artifact", prov["artifact_name"], "source", src)
			return
		}
	}
	if err.Error() != last.err {
		last.err = err.Error()
		s.log.Warn("hand-off: running software not published; the uplink falls back to the root file system's artifact_info", "err", err)
	}
}

// maxArtifactInfo bounds the artifact_info file read.
const maxArtifactInfo = 16 << 10

// running is the running software's provides and where they come from.
func (s *Service) running() (map[string]string, string, error) {
	if s.o.Updates != nil {
		if in := s.o.Updates.Status().Installed; in["artifact_name"] != "" {
			// The committed artifact's provides; one that cannot be
			// published is left out, never the name.
			out := map[string]string{}
			for k, v := range in {
				if handoff.ValidProvide(k, v) {
					out[k] = v
				}
			}
			if out["artifact_name"] == "" {
				return nil, "", fmt.Errorf("update journal: artifact name %.60q cannot be published", in["artifact_name"])
			}
			return out, "update journal", nil
		}
	}
	if s.o.ArtifactInfo == "" {
		return nil, "", errors.New("nothing committed by the update engine and no artifact_info configured (mender.artifact_info)")
	}
	f, err := os.Open(s.o.ArtifactInfo)
	if err != nil {
		return nil, "", fmt.Errorf("nothing committed by the update engine, and %w (the image must install it)", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxArtifactInfo+1))
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", s.o.ArtifactInfo, err)
	}
	p, err := handoff.ParseArtifactInfo(b)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", s.o.ArtifactInfo, err)
	}
	return p, s.o.ArtifactInfo, nil
}
