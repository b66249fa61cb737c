package ppg

import (
	"encoding/binary"
	"math"
	"testing"
)

// A fuzz record is one sample: red and IR as float64 bits (so NaN and
// infinities occur) and a validity byte.
const recLen = 17

func encodeSamples(red, ir []float64, valid []bool) []byte {
	b := make([]byte, 0, len(red)*recLen)
	for i := range red {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(red[i]))
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(ir[i]))
		v := byte(0)
		if valid[i] {
			v = 1
		}
		b = append(b, v)
	}
	return b
}

// seedSynth is a table-test signal, 25 Hz so that a short seed holds pulses.
func seedSynth(s synth, seconds float64, bad func(i int) (float64, float64, bool)) []byte {
	s.rate = 25
	n := int(seconds * s.rate)
	red, ir, valid := make([]float64, n), make([]float64, n), make([]bool, n)
	for i := range n {
		red[i], ir[i] = s.at(i)
		valid[i] = true
		if bad != nil {
			if r, x, ok := bad(i); !ok || math.IsNaN(r) || r != 0 {
				red[i], ir[i], valid[i] = r, x, ok
			}
		}
	}
	return encodeSamples(red, ir, valid)
}

func FuzzPPG(f *testing.F) {
	for _, spo2 := range []float64{100, 97, 90, 85, 80} {
		f.Add(seedSynth(defaultSynth(spo2), 8, nil))
	}
	up := defaultSynth(95)
	up.invert = false
	f.Add(seedSynth(up, 8, nil))
	f.Add(seedSynth(defaultSynth(97), 8, func(i int) (float64, float64, bool) {
		if i > 100 && i < 120 {
			return math.NaN(), math.Inf(1), true
		}
		if i > 150 && i < 160 {
			return 1e5, 1e5, false
		}
		return 0, 0, true
	}))
	f.Add(seedSynth(defaultSynth(97), 8, func(i int) (float64, float64, bool) {
		if i > 100 {
			return 262143, 300, true // saturated red, dark IR
		}
		return 0, 0, true
	}))
	f.Add([]byte{})
	cfg := Defaults()
	cfg.Rate = 25
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 4096*recLen {
			b = b[:4096*recLen] // 160 s at 25 Hz is plenty; keeps execs fast
		}
		for len(b) >= recLen {
			red := math.Float64frombits(binary.LittleEndian.Uint64(b))
			ir := math.Float64frombits(binary.LittleEndian.Uint64(b[8:]))
			r := p.Push(red, ir, b[16]&1 == 1)
			b = b[recLen:]
			if msg := checkResult(cfg, r); msg != "" {
				t.Fatalf("%s: %+v", msg, r)
			}
		}
	})
}

// checkResult returns what is wrong with r, or "".
func checkResult(cfg Config, r Result) string {
	for _, v := range []float64{r.PulseRate, r.SpO2, r.R, r.PI, r.BeatDelay} {
		if !finite(v) || v < 0 {
			return "non-finite or negative value"
		}
	}
	switch {
	case r.SpO2 > 100:
		return "SpO2 above 100"
	case r.SpO2Valid && (r.R < cfg.RMin || r.R > cfg.RMax):
		return "SpO2 valid with R outside the plausible range"
	case r.RateValid && (r.PulseRate < 25 || r.PulseRate > 240*1.3):
		return "implausible valid rate"
	case r.ProbeOff && (r.SpO2Valid || r.RateValid || r.PIValid):
		return "values valid with the probe off"
	}
	return ""
}
