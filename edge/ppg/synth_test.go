package ppg

import (
	"math"
	"math/rand/v2"
)

// synth makes red and IR PPG counts with a chosen SpO2 (through the
// calibration line) and perfusion index.
type synth struct {
	rate   float64 // Hz
	bpm    float64
	spo2   float64 // % the red/IR ratio is built for, with A=110, B=25
	pi     float64 // IR AC/DC in %
	dcIR   float64
	dcRed  float64
	sine   bool // a pure sine instead of a systolic + dicrotic wave
	invert bool // counts fall with blood volume, as on a MAX3010x (the default)
	noise  float64
	wander float64 // respiratory baseline modulation, fraction of DC at 0.25 Hz
	rng    *rand.Rand
}

func defaultSynth(spo2 float64) synth {
	return synth{rate: 100, bpm: 72, spo2: spo2, pi: 2, dcIR: 120000, dcRed: 90000, invert: true}
}

// wave is one pulse over phase 0..1, scaled to peak-to-peak 1.
func (s *synth) wave(ph float64) float64 {
	if s.sine {
		return 0.5 * math.Sin(2*math.Pi*ph)
	}
	g := func(c, w float64) float64 { d := (ph - c) / w; return math.Exp(-d * d) }
	// Systolic wave, dicrotic wave; the wrap-around copy keeps it smooth.
	v := g(0.2, 0.08) + 0.4*g(0.45, 0.1) + g(1.2, 0.08)
	return v / 1.0366 // peak-to-peak of the sum, measured numerically
}

func (s *synth) ratio() float64 { return (110 - s.spo2) / 25 }

// at returns the sample pair at index i.
func (s *synth) at(i int) (red, ir float64) {
	ph := math.Mod(float64(i)/s.rate*s.bpm/60, 1)
	w := s.wave(ph)
	if s.invert {
		w = -w
	}
	acIR := s.pi / 100 * s.dcIR
	acRed := s.ratio() * s.pi / 100 * s.dcRed
	red, ir = s.dcRed+acRed*w, s.dcIR+acIR*w
	if s.wander > 0 {
		m := 1 + s.wander*math.Sin(2*math.Pi*0.25*float64(i)/s.rate)
		red, ir = red*m, ir*m
	}
	if s.noise > 0 {
		if s.rng == nil {
			s.rng = rand.New(rand.NewPCG(1, 2))
		}
		red += s.noise * s.rng.NormFloat64()
		ir += s.noise * s.rng.NormFloat64()
	}
	return red, ir
}

// run feeds seconds of s into p and returns the last result and the number
// of beats.
func (s *synth) run(p *Processor, from int, seconds float64) (Result, int) {
	var r Result
	beats := 0
	for i := from; i < from+int(seconds*s.rate); i++ {
		red, ir := s.at(i)
		r = p.Push(red, ir, true)
		if r.Beat {
			beats++
		}
	}
	return r, beats
}
