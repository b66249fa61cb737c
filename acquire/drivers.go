package acquire

import (
	"fmt"
	"io"
	"time"

	"medagent/config"
	"medagent/edge/pipeline"
	"medagent/hal"
	"medagent/hal/buserr"
	"medagent/hal/devices"
	"medagent/hal/halsim"
	"medagent/sensors"
	"medagent/sensors/ads1292"
	"medagent/sensors/max3010x"
	"medagent/sensors/tmp117"

	"periph.io/x/conn/v3/physic"
)

// Default stuck_after per driver (config.Sensor.StuckAfter): a working
// ECG front end or photodiode never repeats its 18..24-bit codes for a
// second; a thermally stable patient can repeat a 7.8 m°C temperature
// code for minutes.
const (
	stuckECG  = time.Second
	stuckPPG  = time.Second
	stuckTemp = 10 * time.Minute
)

// driverSource opens one real driver through hal/devices.
type driverSource struct {
	h     hal.SensorConfig
	sim   *hal.Sim
	clock func() time.Duration // the simulators' clock, for the ADS1292R's loss estimate
	k     pipeline.Kind
	st    []streamInfo
	r     float64
	stuck time.Duration
	pace  bool
	rig   *halsim.Rig
	ch    int // ADS1292R channel index of lead II
}

func newDriverSource(sc config.Sensor, rig *halsim.Rig, clock func() time.Duration) (source, error) {
	h := sc.HAL()
	if err := h.Validate(); err != nil {
		return nil, err
	}
	d := &driverSource{h: h, r: sensorRate(h), stuck: sc.StuckAfter, rig: rig, ch: 1}
	if sc.Channel == 1 {
		d.ch = 0
	}
	if h.Bus == hal.SimName || h.Bus == config.NoninSimPath {
		if rig == nil {
			return nil, fmt.Errorf("bus sim: no simulator")
		}
		d.sim, d.clock = rig.Sim, clock
	}
	def := func(v time.Duration) {
		if d.stuck == 0 {
			d.stuck = v
		}
	}
	switch h.Driver {
	case hal.DriverADS1292R:
		d.k, d.st, d.pace = pipeline.ECG, ecgStreams, true
		def(stuckECG)
	case hal.DriverMAX30101, hal.DriverMAX30102:
		d.k, d.st = pipeline.PPG, ppgStreams
		def(stuckPPG)
	case hal.DriverTMP117:
		d.k, d.st = pipeline.Temp, tempStreams
		def(stuckTemp)
	case hal.DriverNonin:
		return newNoninSource(d)
	default:
		return nil, fmt.Errorf("driver %q: not supported by the agent", h.Driver)
	}
	return d, nil
}

func (d *driverSource) kind() pipeline.Kind   { return d.k }
func (d *driverSource) streams() []streamInfo { return d.st }
func (d *driverSource) rate() float64         { return d.r }
func (d *driverSource) paced() bool           { return d.pace }

func (d *driverSource) lossCondition() string {
	if d.k == pipeline.PPG {
		return condOverflow
	}
	return condFramesLost
}

// stuckAfter is stuck_after in samples.
func (d *driverSource) stuckAfter() int { return max(2, int(d.stuck.Seconds()*d.r)) }

func (d *driverSource) open() (device, error) {
	switch d.k {
	case pipeline.ECG:
		dev, c, err := devices.OpenADS1292R(d.h, d.sim, d.clock)
		if err != nil {
			return nil, err
		}
		return &adsDevice{d: dev, c: c, want: int(d.r * sampleTick.Seconds()), stuck: d.stuckAfter(), ch: d.ch}, nil
	case pipeline.PPG:
		dev, c, err := devices.OpenMAX3010x(d.h, d.sim)
		if err != nil {
			return nil, err
		}
		return &maxDevice{d: dev, c: c, stuck: d.stuckAfter(), rollover: d.h.Options["rollover"] == "true"}, nil
	}
	dev, c, err := devices.OpenTMP117(d.h, d.sim)
	if err != nil {
		return nil, err
	}
	return &tmpDevice{d: dev, c: c, period: dev.Period(), stuck: d.stuckAfter(), oneShot: d.h.Options["mode"] == "oneshot"}, nil
}

// adsDevice reads an ADS1292R frame by frame on DRDY; lead II is channel
// ch+1 (by default 2: channel 1 is the ADS1292R's respiration channel).
// A lead-off status makes the sample invalid.
type adsDevice struct {
	d     *ads1292.Dev
	c     io.Closer
	f     ads1292.Frame
	want  int
	stuck int
	ch    int
	prev  int32
	have  bool
	rep   int
}

func (a *adsDevice) read(b []sensors.Block, _ time.Duration) (readStatus, error) {
	var st readStatus
	for n := 0; n < max(a.want, 1); n++ {
		if err := a.d.Read(&a.f); err != nil {
			return st, err
		}
		for range a.f.Lost {
			b[0].Append(0, false)
		}
		st.lost += a.f.Lost
		b[0].Append(a.f.MV[a.ch], a.f.LeadOff == 0)
		// Count repeats of the lead II channel only: the driver's
		// Repeats needs both channels frozen.
		if a.have && a.f.Raw[a.ch] == a.prev {
			a.rep++
		} else {
			a.rep = 0
		}
		a.prev, a.have = a.f.Raw[a.ch], true
	}
	st.stuck = a.rep >= a.stuck
	return st, nil
}

func (a *adsDevice) close() error { return a.c.Close() }

// maxDevice drains the MAX3010x FIFO every tick.
type maxDevice struct {
	d        *max3010x.Dev
	c        io.Closer
	buf      [max3010x.FIFODepth]max3010x.Sample
	stuck    int
	rollover bool
}

func (m *maxDevice) read(b []sensors.Block, _ time.Duration) (readStatus, error) {
	var st readStatus
	for {
		n, lost, err := m.d.ReadFIFO(m.buf[:])
		if err != nil {
			return st, err
		}
		// With rollover the oldest entries were overwritten (lost before
		// these); without it the newest were dropped (lost after these).
		if m.rollover {
			m.lost(b, lost, &st)
		}
		for _, s := range m.buf[:n] {
			b[0].Append(float64(s.Red), true)
			b[1].Append(float64(s.IR), true)
		}
		if !m.rollover {
			m.lost(b, lost, &st)
		}
		if n < len(m.buf) {
			break
		}
	}
	st.stuck = m.d.Repeats() >= m.stuck
	return st, nil
}

// lost appends the n samples the chip counted as lost; a count of
// max3010x.OverflowMax means that many or more (the counter saturates),
// so the sampler places the rest by the clock at the same index.
func (m *maxDevice) lost(b []sensors.Block, n int, st *readStatus) {
	invalid(b, n)
	st.lost += n
	if n >= max3010x.OverflowMax {
		st.uncounted, st.uncountedAt = true, len(b[0].Samples)
	}
}

func (m *maxDevice) close() error { return m.c.Close() }

// invalid appends n invalid samples to every block.
func invalid(b []sensors.Block, n int) {
	for i := range b {
		for range n {
			b[i].Append(0, false)
		}
	}
}

// tmpDevice reads the TMP117 once per conversion: in continuous mode when
// the data-ready flag says a new result is there (so no result is read
// twice or skipped), in one-shot mode once per cycle. No new result for
// three cycles is a timeout.
type tmpDevice struct {
	d       *tmp117.Dev
	c       io.Closer
	period  time.Duration
	oneShot bool
	last    time.Duration
	have    bool
	s       tmp117.Status
	t       physic.Temperature
	stuck   int
}

// tmpReset is the result register's power-on value (0x8000, -256 °C):
// no conversion has finished yet.
const tmpReset = physic.ZeroCelsius - 256*physic.Kelvin

func (t *tmpDevice) read(b []sensors.Block, now time.Duration) (readStatus, error) {
	if !t.have {
		t.last, t.have = now, true
	}
	if t.oneShot {
		if now-t.last < t.period {
			return readStatus{}, nil
		}
	} else {
		if err := t.d.ReadStatus(&t.s); err != nil {
			return readStatus{}, err
		}
		if !t.s.DataReady {
			if now-t.last > 3*t.period {
				return readStatus{}, fmt.Errorf("tmp117: no conversion for %s: %w", now-t.last, buserr.ErrTimeout)
			}
			return readStatus{}, nil
		}
	}
	t.last = now
	if err := t.d.Sense(&t.t); err != nil {
		return readStatus{}, err
	}
	b[0].Append(float64(t.t-physic.ZeroCelsius)/float64(physic.Kelvin), t.t != tmpReset)
	return readStatus{stuck: t.d.Repeats() >= t.stuck}, nil
}

func (t *tmpDevice) close() error { return t.c.Close() }
