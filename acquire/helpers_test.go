package acquire

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"medagent/config"
	"medagent/edge/pipeline"
	"medagent/sensors"
	"medagent/sensors/simrig"
	"medagent/telemetry"
)

// fakeSpool records what the samplers spool.
type fakeSpool struct {
	mu    sync.Mutex
	packs []telemetry.Pack
}

func (f *fakeSpool) Append(_ context.Context, class telemetry.Class, stream string, _ time.Time, payload []byte) (uint64, error) {
	p, err := telemetry.Unmarshal(payload)
	if err != nil {
		return 0, err
	}
	if p.Class != class || p.Stream != stream {
		panic("pack and append arguments disagree")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.packs = append(f.packs, p)
	return uint64(len(f.packs)), nil
}

// event is one spooled sensor event, flattened.
type event struct {
	cond, state, err string
	nums             map[string]float64
}

func (f *fakeSpool) events(sensor string) []event {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []event
	for _, p := range f.packs {
		if p.Stream != sensor || p.Class != telemetry.ClassEvent {
			continue
		}
		e := event{nums: map[string]float64{}}
		for _, r := range p.Records {
			switch {
			case r.Name == "event/condition":
				e.cond = r.String
			case r.Name == "event/state":
				e.state = r.String
			case r.Name == "event/error":
				e.err = r.String
			case r.Value != nil:
				e.nums[r.Name] = *r.Value
			}
		}
		out = append(out, e)
	}
	return out
}

// find returns the first event of cond and state ("" matches any).
func find(evs []event, cond, state string) (event, bool) {
	for _, e := range evs {
		if (cond == "" || e.cond == cond) && (state == "" || e.state == state) {
			return e, true
		}
	}
	return event{}, false
}

// collected is what one sensor's sampler sent to the edge stage.
type collected struct {
	blocks [][]sensors.Block
	recv   []time.Duration // when each frame arrived (monotonic)
}

// counts returns the samples and the valid samples of stream i in frames
// whose first sample is at or after from (monotonic).
func (c *collected) counts(i int, from time.Duration) (n, valid int) {
	for _, b := range c.blocks {
		if b[i].Mono < from {
			continue
		}
		n += len(b[i].Samples)
		for _, v := range b[i].Valid {
			if v {
				valid++
			}
		}
	}
	return n, valid
}

// harness runs the samplers of a configuration against the simulators
// with a fast backoff, collecting frames and events.
type harness struct {
	t      *testing.T
	set    *sensorSet
	rig    *simrig.Rig // the simulators behind bus sim
	spool  *fakeSpool
	mu     sync.Mutex
	frames map[string]*collected
	smp    []*sampler
	p      *pipeline.Pipeline
	cfg    config.Config
	cancel context.CancelFunc
	done   chan struct{}
	origin time.Time // of the monotonic clock
}

// mono is the samplers' and simulators' monotonic clock. Inside a
// synctest bubble it runs on the bubble's fake time.
func (h *harness) mono() time.Duration { return time.Since(h.origin) }

// newHarness prepares the samplers of sensors. Called inside a
// testing/synctest bubble (the simulated chips on bus sim), everything
// runs in the bubble's time; the Nonin's pty needs real time.
func newHarness(t *testing.T, entries []sensors.Config, tune func(*sampler)) *harness {
	t.Helper()
	cfg := config.Default()
	cfg.Sensors = entries
	h := &harness{t: t, spool: &fakeSpool{}, frames: map[string]*collected{}, cfg: cfg, origin: time.Now()}
	set, err := openSensors(cfg.Sensors, cfg.Sim, hostBuses(), h.bench, h.mono)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { set.close() })
	h.set = set
	h.p, err = pipeline.New(pipeline.Config{Window: time.Second, MainsHz: 50, Alarms: cfg.Alarms}, set.declare(cfg.Sensors))
	if err != nil {
		t.Fatal(err)
	}
	log := h.smp0log()
	for i, s := range cfg.Sensors {
		sm := &sampler{name: s.Name, src: set.srcs[i], buses: set.buses, events: h.spool, tick: sampleTick,
			log: log, now: time.Now, mono: h.mono, backoffMin: 20 * time.Millisecond, backoffMax: 200 * time.Millisecond}
		if tune != nil {
			tune(sm)
		}
		h.smp = append(h.smp, sm)
		h.frames[s.Name] = &collected{}
	}
	return h
}

// bench builds the simulators and keeps them for fault injection.
func (h *harness) bench(entries []sensors.Config, sim config.Sim, clock func() time.Duration) (Bench, error) {
	r, err := simrig.ForSensors(entries, sim, clock)
	h.rig = r
	return r, err
}

// smp0log is the samplers' logger: the test log with -v, else nothing.
func (h *harness) smp0log() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(testWriter{h.t}, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) { w.t.Log(string(b)); return len(b), nil }

// start runs the samplers and a consumer that feeds the pipeline.
func (h *harness) start() {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan struct{})
	ch := make(chan frame, frameQueue)
	var wg sync.WaitGroup
	if h.rig != nil {
		wg.Add(1)
		go func() { defer wg.Done(); h.rig.Run(ctx) }()
	}
	for _, s := range h.smp {
		s.out = ch
		wg.Add(1)
		go func() { defer wg.Done(); s.Run(ctx) }()
	}
	go func() {
		defer close(h.done)
		for {
			select {
			case f := <-ch:
				h.mu.Lock()
				c := h.frames[f.sensor]
				c.blocks, c.recv = append(c.blocks, f.blocks), append(c.recv, h.mono())
				h.p.Push(f.sensor, f.blocks)
				h.mu.Unlock()
			case <-ctx.Done():
				wg.Wait()
				return
			}
		}
	}()
	h.t.Cleanup(h.stop)
}

func (h *harness) stop() {
	if h.cancel != nil {
		h.cancel()
		<-h.done
		h.cancel = nil
	}
}

// got returns a copy of what sensor name sent so far.
func (h *harness) got(name string) *collected {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := *h.frames[name]
	return &c
}

// waitFor polls cond for up to d.
func (h *harness) waitFor(d time.Duration, what string, cond func() bool) {
	h.t.Helper()
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) {
			h.t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Sensor entries as the default configuration has them, and a Nonin.
var (
	ecgSensor   = sensors.Config{Name: "ecg", Driver: "ads1292", Rate: 500, Bus: "sim", DRDY: "sim:ads-drdy", SPIMode: 1}
	ppgSensor   = sensors.Config{Name: "ppg", Driver: "max3010x", Rate: 100, Bus: "sim", Address: 0x57}
	tempSensor  = sensors.Config{Name: "temp", Driver: "tmp117", Rate: 1, Bus: "sim", Address: 0x48}
	noninSensor = sensors.Config{Name: "oxi", Driver: "nonin", Bus: "sim"}
)
