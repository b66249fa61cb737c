package agent

import (
	"fmt"
	"log/slog"
	"time"

	"context"
	"golang.org/x/sync/errgroup"

	"medagent/config"
	"medagent/edge/pipeline"
	"medagent/spool"
	"medagent/trust/datakey"
)

// acquisition is the acquire role: samplers, the edge stage and the spool
// writer. It has no network.
type acquisition struct {
	spool    *spool.Writer
	samplers []*sampler
	sources  *sourceSet
	edge     *edge
}

// frameQueue bounds the frames waiting for the edge stage: about two
// seconds of every sensor's ticks. Beyond it, samplers drop and count.
const frameQueue = 128

// sampleTick is how often samplers read what is due.
const sampleTick = 40 * time.Millisecond

func newAcquisition(cfg config.Config, log *slog.Logger, now func() time.Time) (*acquisition, error) {
	key, err := loadDataKey(cfg)
	if err != nil {
		return nil, err
	}
	if key == nil {
		log.Warn("spool encryption is off (spool.key_file is empty): for the bench only")
	}
	w, err := spool.OpenWriter(spool.Options{
		Dir: cfg.Spool.Dir, MaxBytes: cfg.Spool.MaxBytes, SegmentBytes: cfg.Spool.SegmentBytes,
		Key: key, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	set, err := openSources(cfg, func() time.Duration { return time.Since(processStart) })
	if err != nil {
		w.Close()
		return nil, err
	}
	srcs := set.srcs
	var decl []pipeline.Sensor
	for i, s := range cfg.Sensors {
		ps := pipeline.Sensor{Name: s.Name, Kind: srcs[i].kind(), Rate: srcs[i].rate()}
		for _, st := range srcs[i].streams() {
			ps.Streams = append(ps.Streams, st.Stream)
		}
		decl = append(decl, ps)
	}
	p, err := pipeline.New(pipeline.Config{
		Window: cfg.Edge.Window, MainsHz: cfg.Edge.MainsHz,
		SpO2CalA: cfg.Edge.SpO2CalA, SpO2CalB: cfg.Edge.SpO2CalB,
		Waveforms: cfg.Edge.Waveforms, WaveformRate: cfg.Edge.WaveformRate,
		Alarms: cfg.Alarms,
	}, decl)
	if err != nil {
		set.close()
		w.Close()
		return nil, err
	}
	frames := make(chan frame, frameQueue)
	a := &acquisition{spool: w, sources: set, edge: newEdge(cfg.Edge.Window, p, frames, w, log, now)}
	for i, s := range cfg.Sensors {
		a.samplers = append(a.samplers, &sampler{
			name: s.Name, src: srcs[i], out: frames, events: w, tick: sampleTick,
			log: log, now: now, mono: func() time.Duration { return time.Since(processStart) },
		})
	}
	return a, nil
}

// processStart is the origin of the monotonic timestamps in sample blocks.
var processStart = time.Now()

func (a *acquisition) start(ctx context.Context, g *errgroup.Group) {
	for _, s := range a.samplers {
		g.Go(func() error { return s.Run(ctx) })
	}
	g.Go(func() error { return a.edge.Run(ctx) })
}

func (a *acquisition) close() {
	a.sources.close()
	a.spool.Close()
}

// loadDataKey returns the spool's AES-256 key: sealed by the TPM when
// there is one, else a file readable by the agent only; made at first start.
func loadDataKey(cfg config.Config) ([]byte, error) {
	if cfg.Spool.KeyFile == "" {
		return nil, nil
	}
	k, err := datakey.Load(datakey.Options{TPM: cfg.Trust.TPM, File: cfg.Spool.KeyFile})
	if err != nil {
		return nil, fmt.Errorf("spool key: %w", err)
	}
	return k, nil
}
