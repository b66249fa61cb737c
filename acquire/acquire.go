package acquire

import (
	"context"
	"log/slog"
	"runtime"
	"time"

	"golang.org/x/sync/errgroup"

	"medagent/config"
	"medagent/edge/alarm"
	"medagent/edge/pipeline"
	"medagent/sensors"
	"medagent/telemetry"
)

// Appender is where acquisition puts its packs: the spool writer.
type Appender interface {
	Append(ctx context.Context, class telemetry.Class, stream string, t time.Time, payload []byte) (uint64, error)
}

// Options configure an Acquisition.
type Options struct {
	Sensors []sensors.Config
	// Sim is the simulated patient behind bus "sim", with Bench.
	Sim    config.Sim
	Edge   config.Edge
	Alarms alarm.Config
	// Buses are the hardware's; zero means the hardware's (package hal).
	Buses sensors.Buses
	// Bench builds the simulators behind bus "sim"; nil (the device
	// build) refuses a sensor on bus sim.
	Bench NewBench
	// Spool receives every pack; required.
	Spool  Appender
	Logger *slog.Logger
	// Realtime is the real-time sampling path (realtime.go).
	Realtime Realtime
	// Now is the wall clock; nil means time.Now. It is read once to anchor
	// the monotonic time axis, then only to detect steps (timebase.go).
	Now func() time.Time
}

// Acquisition is the samplers of the configured sensors and the edge
// stage they feed.
type Acquisition struct {
	samplers []*sampler
	sensors  *sensorSet
	edge     *edge
	events   *events
	tb       *timebase
	rt       Realtime
	log      *slog.Logger
}

// frameQueue bounds the frames waiting for the edge stage: about three
// seconds of three sensors' ticks, so an edge stage held up that long by
// a loaded machine still gets every sample. Beyond it, samplers drop and
// count (the slots go out invalid).
const frameQueue = 256

// sampleTick is how often samplers read what is due.
const sampleTick = 40 * time.Millisecond

// New opens the sources (a device is opened by its sampler, with retries)
// and builds the edge pipeline; a configuration the pipeline cannot run
// is an error. The monotonic clock of the sample blocks starts here.
func New(o Options) (*Acquisition, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	tb := newTimebase(o.Now)
	if o.Buses.I2C == nil {
		o.Buses = hostBuses()
	}
	set, err := openSensors(o.Sensors, o.Sim, o.Buses, o.Bench, tb.mono)
	if err != nil {
		return nil, err
	}
	p, err := pipeline.New(pipeline.Config{
		Window: o.Edge.Window, MainsHz: o.Edge.MainsHz,
		SpO2CalA: o.Edge.SpO2CalA, SpO2CalB: o.Edge.SpO2CalB,
		Waveforms: o.Edge.Waveforms, WaveformRate: o.Edge.WaveformRate,
		Alarms: o.Alarms,
	}, set.declare(o.Sensors))
	if err != nil {
		set.close()
		return nil, err
	}
	frames := make(chan frame, frameQueue)
	var names []string
	for _, s := range o.Sensors {
		names = append(names, s.Name)
	}
	a := &Acquisition{sensors: set, edge: newEdge(o.Edge.Window, p, names, frames, o.Spool, o.Logger, tb),
		events: newEvents(o.Spool, o.Logger), tb: tb, rt: o.Realtime, log: o.Logger}
	sim := newSimulated(o.Sensors, set)
	a.edge.sim = sim
	for i, s := range o.Sensors {
		sm := &sampler{
			name: s.Name, src: set.srcs[i], buses: set.buses, out: frames, events: o.Spool, tick: sampleTick,
			log: o.Logger, now: tb.now, mono: tb.mono, wallAt: tb.at,
			origin: tb.origin, evq: a.events, pool: make(chan []sensors.Block, blockPool),
			sim: sim.sensors[s.Name],
		}
		sm.rt = o.Realtime.Priority
		a.samplers = append(a.samplers, sm)
	}
	return a, nil
}

// blockPool is how many reads' blocks a sampler keeps for reuse.
const blockPool = 32

// Run samples and processes until ctx ends or a part fails; a cancelled
// ctx is a clean stop and returns nil.
func (a *Acquisition) Run(ctx context.Context) error {
	if a.rt.LockMemory {
		err := lockMemory()
		if err != nil {
			a.log.Warn("memory not locked: page faults may delay samples", "err", err)
		} else {
			a.log.Info("memory locked")
		}
		a.events.put(memlockPack(a.tb.now(), err))
	}
	if a.rt.Priority > 0 {
		a.reserveProcs()
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.events.Run(ctx) })
	for _, s := range a.samplers {
		g.Go(func() error { return s.Run(ctx) })
	}
	g.Go(func() error { return a.edge.Run(ctx) })
	if a.sensors.bench != nil {
		g.Go(func() error { return a.runBench(ctx) })
	}
	return g.Wait()
}

// Close releases the simulators behind bus "sim" (the Nonin pty). Call it
// after Run has returned.
func (a *Acquisition) Close() error { return a.sensors.close() }

// Latest returns the last telemetry pack of every sensor.
func (a *Acquisition) Latest() map[string]telemetry.Pack { return a.edge.Latest() }

// Alarms returns the active alarms.
func (a *Acquisition) Alarms() []alarm.Alarm { return a.edge.Alarms() }

// Ack acknowledges an alarm and spools the transition.
func (a *Acquisition) Ack(ctx context.Context, id alarm.ID) error { return a.edge.Ack(ctx, id) }

// Monitoring reports whether a patient is being monitored: a valid vital
// sign within grace, or an active alarm.
func (a *Acquisition) Monitoring(grace time.Duration) bool { return a.edge.Monitoring(grace) }

// SensorsUp returns nil when every named sensor's last window is recent
// and holds a valid stream, else an error naming the first that is not.
func (a *Acquisition) SensorsUp(names []string) error { return a.edge.SensorsUp(names) }

// Alive returns nil while windows keep ending (acquisition makes progress).
func (a *Acquisition) Alive() error { return a.edge.Alive() }

// reserveProcs makes room in the Go scheduler for the real-time threads.
// A real-time thread coming back from the kernel needs a free P to run
// its goroutine; with GOMAXPROCS at the number of CPUs, both Ps may be
// held by ordinary threads that a loaded machine keeps off the CPU, and
// the sampling thread waits for them: hundreds of milliseconds, measured
// as MAX3010x FIFO overflows under stress-ng. One P per sampling thread
// on top of the CPUs leaves one free for it.
func (a *Acquisition) reserveProcs() {
	want := runtime.NumCPU() + len(a.samplers)
	if have := runtime.GOMAXPROCS(0); have < want {
		runtime.GOMAXPROCS(want)
		a.log.Info("GOMAXPROCS raised for the real-time sampling threads", "from", have, "to", want)
	}
}
