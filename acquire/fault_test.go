package acquire

import (
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"medagent/sensors"
	"medagent/sensors/ads1292"
	"medagent/sensors/ads1292/ads1292sim"
	"medagent/sensors/max3010x"
	"medagent/sensors/max3010x/max3010xsim"
	"medagent/sensors/tmp117/tmp117sim"
	"medagent/telemetry"
)

// between returns the samples and valid samples of stream 0 in frames
// starting in [from, to).
func (c *collected) between(from, to time.Duration) (n, valid int) {
	for _, b := range c.blocks {
		if b[0].Mono < from || b[0].Mono >= to {
			continue
		}
		n += len(b[0].Samples)
		for _, v := range b[0].Valid {
			if v {
				valid++
			}
		}
	}
	return n, valid
}

func (h *harness) waitEvent(name, cond, state string, d time.Duration) event {
	h.t.Helper()
	var e event
	h.waitFor(d, name+" event "+cond+" "+state, func() bool {
		var ok bool
		e, ok = find(h.spool.events(name), cond, state)
		return ok
	})
	return e
}

func (h *harness) waitValid(name string, from time.Duration, d time.Duration) {
	h.t.Helper()
	h.waitFor(d, name+" valid samples", func() bool {
		_, v := h.got(name).counts(0, from)
		return v > 0
	})
}

// checkEventsClean fails if a sensor event carries anything but event/*
// records (no samples, no vitals).
func (h *harness) checkEventsClean() {
	h.spool.mu.Lock()
	defer h.spool.mu.Unlock()
	for _, p := range h.spool.packs {
		if p.Class != telemetry.ClassEvent {
			h.t.Errorf("sampler spooled a %v pack", p.Class)
		}
		for _, r := range p.Records {
			if !strings.HasPrefix(r.Name, "event/") {
				h.t.Errorf("event pack of %s carries %q", p.Stream, r.Name)
			}
		}
	}
}

// faultCase injects a fault into a running sensor and clears it: the
// condition is spooled as active, the samples of the outage are invalid,
// the device is reopened (the cleared event counts the reopens) and valid
// samples follow.
// It runs in the caller's synctest bubble: every wait is simulated time.
func faultCase(t *testing.T, s sensors.Config, cond string, inject, clear func(h *harness)) *harness {
	h := newHarness(t, []sensors.Config{s}, nil)
	h.start()
	h.waitValid(s.Name, 0, 5*time.Second)
	t0 := h.mono()
	inject(h)
	h.waitEvent(s.Name, cond, "active", 5*time.Second)
	// Hold the fault long enough for samples to be due (the TMP117
	// converts once a second).
	time.Sleep(max(300*time.Millisecond, time.Duration(2.5/h.smp[0].src.Rate*float64(time.Second))))
	clear(h)
	e := h.waitEvent(s.Name, "", "cleared", 5*time.Second)
	if e.nums["event/reopens"] < 1 {
		t.Errorf("cleared event %+v: want event/reopens >= 1", e)
	}
	t1 := h.mono()
	h.waitValid(s.Name, t1, 5*time.Second)
	h.stop()
	// The first invalid frame may start up to the gap tolerance before t0.
	n, valid := h.got(s.Name).between(t0-200*time.Millisecond, t1)
	if n == 0 || valid == n {
		t.Errorf("%d samples, %d valid during the fault: want the outage as invalid samples", n, valid)
	}
	h.checkEventsClean()
	return h
}

func TestFaultNACK(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		faultCase(t, ppgSensor, condNACK,
			func(h *harness) { h.rig.MAX.SetFault(max3010xsim.FaultNACK, true) },
			func(h *harness) { h.rig.MAX.SetFault(max3010xsim.FaultNACK, false) })
	})
}

func TestFaultTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		faultCase(t, ecgSensor, condTimeout,
			func(h *harness) { h.rig.ADS.SetFault(ads1292sim.FaultNoDRDY, true) },
			func(h *harness) { h.rig.ADS.SetFault(ads1292sim.FaultNoDRDY, false) })
	})
}

func TestFaultTimeoutI2C(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		faultCase(t, tempSensor, condTimeout,
			func(h *harness) { h.rig.TMP117.SetFault(tmp117sim.FaultTimeout, true) },
			func(h *harness) { h.rig.TMP117.SetFault(tmp117sim.FaultTimeout, false) })
	})
}

// A wrong chip ID shows when the device is reopened after a bus fault:
// the condition changes from nack to wrong_id, and clears when the right
// chip answers.
func TestFaultWrongID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := faultCase(t, ppgSensor, condWrongID,
			func(h *harness) {
				h.rig.MAX.SetFault(max3010xsim.FaultWrongID, true)
				h.rig.MAX.SetFault(max3010xsim.FaultNACK, true)
				h.waitEvent("ppg", condNACK, "active", 5*time.Second)
				h.rig.MAX.SetFault(max3010xsim.FaultNACK, false)
			},
			func(h *harness) { h.rig.MAX.SetFault(max3010xsim.FaultWrongID, false) })
		if _, ok := find(h.spool.events("ppg"), condNACK, "cleared"); !ok {
			t.Errorf("events %+v: want the episode cleared under the condition that started it (nack)", h.spool.events("ppg"))
		}
	})
}

func TestFaultStuck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := ppgSensor
		s.StuckAfter = 300 * time.Millisecond
		faultCase(t, s, condStuck,
			func(h *harness) { h.rig.MAX.SetFault(max3010xsim.FaultStuck, true) },
			func(h *harness) { h.rig.MAX.SetFault(max3010xsim.FaultStuck, false) })
	})
}

func TestFaultStuckECG(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := ecgSensor
		s.StuckAfter = 200 * time.Millisecond
		faultCase(t, s, condStuck,
			func(h *harness) { h.rig.ADS.SetFault(ads1292sim.FaultStuck, true) },
			func(h *harness) { h.rig.ADS.SetFault(ads1292sim.FaultStuck, false) })
	})
}

// Reading the MAX3010x late overflows its 32-entry FIFO (320 ms at
// 100/s): the lost slots stay in the stream as invalid samples where the
// chip lost them (after the stored ones: no rollover), so the stream
// keeps its length and every frame ends at the time it was read; an
// event reports the loss, and the device keeps running (a loss is not a
// device fault). Every 500 ms the chip counts the loss (18 a read); every
// 2 s (a starved sampler) OVF_COUNTER saturates at 31 of 168 lost, and
// the sampler takes the rest from the clock instead of shortening the
// timeline.
func TestFaultFIFOOverflow(t *testing.T) {
	for _, tick := range []time.Duration{500 * time.Millisecond, 2 * time.Second} {
		t.Run(tick.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { fifoOverflow(t, tick) })
		})
	}
}

func fifoOverflow(t *testing.T, tick time.Duration) {
	h := newHarness(t, []sensors.Config{ppgSensor}, func(s *sampler) { s.tick = tick })
	h.start()
	e := h.waitEvent("ppg", condOverflow, "", 5*time.Second)
	if e.nums["event/lost"] < 1 {
		t.Errorf("overflow event %+v: want event/lost >= 1", e)
	}
	time.Sleep(5 * tick)
	h.stop()
	c := h.got("ppg")
	if len(c.blocks) < 5 {
		t.Fatalf("%d frames, want at least 5", len(c.blocks))
	}
	perRead := int(tick.Seconds() * 100)
	for k, b := range c.blocks {
		end := b[0].Mono + time.Duration(len(b[0].Samples))*10*time.Millisecond
		if d := c.recv[k] - end; d < -10*time.Millisecond || d > 20*time.Millisecond {
			t.Fatalf("frame %d of %d samples ends at %v but was read at %v: lost samples must stay in the stream as invalid",
				k, len(b[0].Samples), end, c.recv[k])
		}
		if k == 0 {
			continue // the first read holds what came since the open
		}
		valid := 0
		for valid < len(b[0].Valid) && b[0].Valid[valid] {
			valid++
		}
		if valid != max3010x.FIFODepth || len(b[0].Samples) < perRead-1 || len(b[0].Samples) > perRead+1 ||
			slices.Contains(b[0].Valid[valid:], true) {
			t.Fatalf("frame %d: %d samples, the first %d valid, valid flags %v: want %d: the FIFO's 32, then the lost ones invalid",
				k, len(b[0].Samples), valid, b[0].Valid, perRead)
		}
		for _, v := range b[0].Samples[valid:] {
			if !sensors.IsLost(v) {
				t.Fatalf("frame %d: a lost sample is %v, want NaN (sensors.Lost: never read, not a lead off)", k, v)
			}
		}
	}
	for _, e := range h.spool.events("ppg") {
		if e.state != "" {
			t.Errorf("overflow treated as a device fault: %+v", e)
		}
	}
	h.checkEventsClean()
}

// The Nonin on a pty is unplugged (hang-up, link removed) and plugged
// back: disconnected is spooled, the missing time is invalid, the port
// is reopened once the device is back and frames flow again.
func TestFaultNoninUnplugReplug(t *testing.T) {
	h := newHarness(t, []sensors.Config{noninSensor}, nil)
	h.start()
	h.waitValid("oxi", 0, 5*time.Second)
	ox := h.rig.Nonin
	t0 := h.mono()
	if err := ox.Unplug(); err != nil {
		t.Fatal(err)
	}
	h.waitEvent("oxi", condDisconnected, "active", 5*time.Second)
	time.Sleep(500 * time.Millisecond)
	if err := ox.Replug(); err != nil {
		t.Fatal(err)
	}
	// The reopen attempts while unplugged find no device (not_found);
	// the episode clears as the disconnection it started as.
	h.waitEvent("oxi", condNotFound, "active", 5*time.Second)
	e := h.waitEvent("oxi", condDisconnected, "cleared", 5*time.Second)
	if e.nums["event/reopens"] < 2 {
		t.Errorf("cleared after %v reopens, want >= 2 (failed attempts while unplugged)", e.nums["event/reopens"])
	}
	t1 := h.mono()
	h.waitValid("oxi", t1, 5*time.Second)
	h.stop()
	n, valid := h.got("oxi").between(t0-200*time.Millisecond, t1)
	if float64(n-valid) < 0.5*75*0.5 {
		t.Errorf("%d samples, %d valid during a ≥0.5 s unplug: want the outage as invalid samples", n, valid)
	}
	h.checkEventsClean()
}

// Frames with a bad checksum are dropped by the decoder, counted in an
// event, and the frames they took become invalid samples in place.
func TestFaultNoninBadChecksum(t *testing.T) {
	h := newHarness(t, []sensors.Config{noninSensor}, nil)
	h.start()
	h.waitValid("oxi", 0, 5*time.Second)
	h.rig.Nonin.CorruptNext(10)
	e := h.waitEvent("oxi", condBadChecksum, "", 5*time.Second)
	if e.nums["event/frames"] < 1 {
		t.Errorf("event %+v: want event/frames >= 1", e)
	}
	h.stop()
	h.checkEventsClean()
}

// channel picks the ADS1292R input: the rig leaves channel 1 (the
// respiration input) at a constant 0 mV, which reads as stuck, while
// the default channel 2 carries the ECG.
func TestADSChannelSelect(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := ecgSensor
		opts := ads1292.Descriptor.NewSettings().(*ads1292.Settings)
		opts.Channel = 1
		s.Settings, s.StuckAfter = opts, 300*time.Millisecond
		h := newHarness(t, []sensors.Config{s}, nil)
		h.start()
		h.waitEvent("ecg", condStuck, "active", 5*time.Second)
		h.stop()
		for _, b := range h.got("ecg").blocks {
			for i, v := range b[0].Samples {
				if b[0].Valid[i] && v != 0 {
					t.Fatalf("channel 1 sample %v, want the rig's 0 mV", v)
				}
			}
		}
	})
}
