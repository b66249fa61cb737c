package ecgtest

import "math"

// Complex is one synthetic P-QRS-T complex. The QRS is a triangle, as the
// test waveforms of IEC 60601-2-27 draw it; P and T are half-sine waves.
type Complex struct {
	R        float64 // time of the R peak, s
	QRS      float64 // QRS amplitude, mV (negative: an inverted complex)
	QRSWidth float64 // QRS duration, s
	T        float64 // T-wave amplitude, mV (sign is its polarity)
	TWidth   float64 // T-wave duration, s
	QT       float64 // from QRS onset to the end of the T wave, s
	P        float64 // P-wave amplitude, mV (0: none, as in a ventricular beat)
}

// Normal is a narrow upright complex: QRS 1 mV, 80 ms; T 0.3 mV, 160 ms,
// QT 360 ms; P 0.15 mV.
func Normal(r float64) Complex {
	return Complex{R: r, QRS: 1, QRSWidth: 0.08, T: 0.3, TWidth: 0.16, QT: 0.36, P: 0.15}
}

// Ventricular is a wide ventricular complex of polarity sign (+1 or -1):
// QRS 1.5 mV, 140 ms, no P wave, and a discordant T wave (opposite to the
// QRS) of 0.5 mV, 200 ms, QT 440 ms.
func Ventricular(r, sign float64) Complex {
	return Complex{R: r, QRS: 1.5 * sign, QRSWidth: 0.14, T: -0.5 * sign, TWidth: 0.2, QT: 0.44}
}

// Render draws the complexes into seconds of signal at rate Hz.
func Render(cs []Complex, rate, seconds float64) []float64 {
	out := make([]float64, int(math.Round(seconds*rate)))
	for _, c := range cs {
		q := c.R - c.QRSWidth/2 // QRS onset
		tEnd := q + c.QT
		shapes := []struct{ start, width, amp float64 }{
			{q - 0.16, 0.1, c.P},
			{tEnd - c.TWidth, c.TWidth, c.T},
		}
		lo := int(math.Max(0, (q-0.2)*rate))
		hi := int(math.Min(float64(len(out)), (tEnd+0.05)*rate))
		for i := lo; i < hi; i++ {
			t := float64(i) / rate
			v := 0.0
			if d := math.Abs(t - c.R); d < c.QRSWidth/2 {
				v += c.QRS * (1 - d/(c.QRSWidth/2))
			}
			for _, s := range shapes {
				if s.amp != 0 && t >= s.start && t < s.start+s.width {
					v += s.amp * math.Sin(math.Pi*(t-s.start)/s.width)
				}
			}
			out[i] += v
		}
	}
	return out
}

// Rhythm lays out complexes from 0.5 s for seconds: make returns the
// complex for beat k at time t and the R-R interval that follows it.
func Rhythm(seconds float64, make func(k int, t float64) (Complex, float64)) []Complex {
	var cs []Complex
	t := 0.5
	for k := 0; t < seconds-0.5; k++ {
		c, rr := make(k, t)
		cs = append(cs, c)
		t += rr
	}
	return cs
}

// EC13 is one of the irregular-rhythm test waveforms of ANSI/AAMI EC13
// (4.1.2.1 e, Figure 3) and IEC 60601-2-27, with the heart rate a monitor
// must show for it after 20 s.
type EC13 struct {
	Name string
	Rate float64 // /min
	Beat func(k int, t float64) (Complex, float64)
}

// EC13Waveforms are 3a-3d built from their published descriptions: the
// rhythm each names and the rate it must give. The intervals and shapes
// are this package's reading of them (the standard's figures are recorded
// waveforms): in bigeminy a normal beat and a premature ventricular beat
// alternate, with a compensatory pause making each pair two mean R-R
// intervals long; "alternating" bigeminy alternates the polarity of the
// ventricular beats from pair to pair; bidirectional systoles are
// ventricular beats at a steady rate whose polarity alternates beat to
// beat.
var EC13Waveforms = []EC13{
	{"3a ventricular bigeminy", 80, bigeminy(0.5, 1.0, false)},
	{"3b slow alternating ventricular bigeminy", 60, bigeminy(0.8, 1.2, true)},
	{"3c rapid alternating ventricular bigeminy", 120, bigeminy(0.4, 0.6, true)},
	{"3d bidirectional systoles", 90, func(k int, t float64) (Complex, float64) {
		return Ventricular(t, float64(1-2*(k%2))), 60.0 / 90
	}},
}

// bigeminy is a normal beat, a ventricular one coupled after couple s,
// and the pause after it.
func bigeminy(couple, pause float64, alternate bool) func(int, float64) (Complex, float64) {
	return func(k int, t float64) (Complex, float64) {
		if k%2 == 0 {
			return Normal(t), couple
		}
		sign := 1.0
		if alternate && (k/2)%2 == 1 {
			sign = -1
		}
		return Ventricular(t, -sign), pause
	}
}

// Regular is a sinus rhythm of normal complexes at bpm.
func Regular(bpm float64) func(int, float64) (Complex, float64) {
	return func(_ int, t float64) (Complex, float64) { return Normal(t), 60 / bpm }
}

// Step is a sinus rhythm at from /min that changes to to /min at the
// first beat after at seconds (the rate-step test of EC13 4.1.2.1 f).
func Step(from, to, at float64) func(int, float64) (Complex, float64) {
	return func(_ int, t float64) (Complex, float64) {
		if t >= at {
			return Normal(t), 60 / to
		}
		return Normal(t), 60 / from
	}
}

// TallT is the tall-T rejection waveform of IEC 60601-2-27: QRS 1 mV and
// 100 ms, T wave of t mV and 180 ms, QT 350 ms, at bpm.
func TallT(bpm, t float64) func(int, float64) (Complex, float64) {
	return func(_ int, at float64) (Complex, float64) {
		return Complex{R: at, QRS: 1, QRSWidth: 0.1, T: t, TWidth: 0.18, QT: 0.35, P: 0.15}, 60 / bpm
	}
}
