package sim

import (
	"fmt"
	"time"
)

// Calibration maps the ratio of ratios R = (ACred/DCred)/(ACir/DCir) to
// SpO2 with the common empirical straight line SpO2 = A − B·R (percent).
// The default, A = 110 and B = 25, is the common linear approximation of
// the empirical R curve (see doc.go); real oximeters are calibrated per
// sensor against arterial blood gas. Set the same coefficients as the SpO2
// algorithm under test.
type Calibration struct {
	A, B float64
}

// DefaultCalibration is SpO2 = 110 − 25·R.
var DefaultCalibration = Calibration{A: 110, B: 25}

// Ratio returns the R that gives spo2 percent.
func (c Calibration) Ratio(spo2 float64) float64 { return (c.A - spo2) / c.B }

// SpO2 returns the saturation, in percent, that R stands for.
func (c Calibration) SpO2(r float64) float64 { return c.A - c.B*r }

// PPGOptions configures a red/IR photoplethysmogram stream in raw ADC
// counts, as a MAX3010x-class reflective sensor delivers it.
type PPGOptions struct {
	// Rate is the sample rate in Hz, 25–400 (0: 100).
	Rate float64
	// PerfusionIndex is AC/DC of the IR channel in percent, 0.1–20 (0: 2).
	PerfusionIndex float64
	// DCRed and DCIR are the mean levels in counts, 1000 to ADCMax
	// (0: 90000 and 100000, mid-range for an 18-bit converter).
	DCRed, DCIR float64
	// ADCMax is the converter's full scale in counts, 1000–2^24 (0: 2^18−1);
	// output is clipped to [0, ADCMax].
	ADCMax float64
	// NoiseCounts is the standard deviation of white noise on each
	// channel, 0 to 10000 counts.
	NoiseCounts float64
	// PTT is the pulse transit time from the R peak to the foot of the
	// pulse, 50–500 ms (0: 200 ms).
	PTT time.Duration
	// RespModFrac is the relative modulation of both DC levels by
	// respiration, 0–0.05.
	RespModFrac float64
	// ArtifactsPerMin is the mean rate of motion artefacts, 0–60 per
	// minute; ArtifactFrac their typical size relative to DC, 0–0.5
	// (0: 0.05).
	ArtifactsPerMin float64
	ArtifactFrac    float64
	// AmbientCounts is what both channels read with the probe off the
	// finger, 0 to ADCMax (0: 1000).
	AmbientCounts float64
	// Calibration turns the patient's SpO2 into R; zero means
	// DefaultCalibration.
	Calibration Calibration
	// Faults are scheduled faults; Random adds faults drawn from the seed.
	Faults []Fault
	Random RandomFaults
}

// Default PPG values.
const (
	DefaultPPGRate        = 100.0
	DefaultPerfusionIndex = 2.0
	DefaultDCRed          = 90000.0
	DefaultDCIR           = 100000.0
	DefaultADCMax         = 1<<18 - 1
	DefaultPTT            = 200 * time.Millisecond
	DefaultArtifactFrac   = 0.05
	DefaultAmbientCounts  = 1000.0
)

// DefaultPPGOptions returns a realistic finger PPG at 100 Hz with a
// little noise and respiratory modulation.
func DefaultPPGOptions() PPGOptions {
	return PPGOptions{
		Rate:           DefaultPPGRate,
		PerfusionIndex: DefaultPerfusionIndex,
		DCRed:          DefaultDCRed,
		DCIR:           DefaultDCIR,
		ADCMax:         DefaultADCMax,
		NoiseCounts:    20,
		PTT:            DefaultPTT,
		RespModFrac:    0.001,
		ArtifactFrac:   DefaultArtifactFrac,
		AmbientCounts:  DefaultAmbientCounts,
		Calibration:    DefaultCalibration,
	}
}

var ppgFaultKinds = []FaultKind{Stuck, Dropout, LeadOff}

func (o *PPGOptions) ensureDefaults() {
	if o.Rate == 0 {
		o.Rate = DefaultPPGRate
	}
	if o.PerfusionIndex == 0 {
		o.PerfusionIndex = DefaultPerfusionIndex
	}
	if o.DCRed == 0 {
		o.DCRed = DefaultDCRed
	}
	if o.DCIR == 0 {
		o.DCIR = DefaultDCIR
	}
	if o.ADCMax == 0 {
		o.ADCMax = DefaultADCMax
	}
	if o.PTT == 0 {
		o.PTT = DefaultPTT
	}
	if o.ArtifactFrac == 0 {
		o.ArtifactFrac = DefaultArtifactFrac
	}
	if o.AmbientCounts == 0 {
		o.AmbientCounts = DefaultAmbientCounts
	}
	if o.Calibration == (Calibration{}) {
		o.Calibration = DefaultCalibration
	}
}

func (o *PPGOptions) validate(p *Patient) error {
	if err := rateInRange("PPGOptions.Rate", o.Rate, 25, 400); err != nil {
		return err
	}
	if err := inRange("PPGOptions.ADCMax", o.ADCMax, "counts", 1000, 1<<24); err != nil {
		return err
	}
	checks := []struct {
		name   string
		v      float64
		unit   string
		lo, hi float64
	}{
		{"PPGOptions.PerfusionIndex", o.PerfusionIndex, "%", 0.1, 20},
		{"PPGOptions.DCRed", o.DCRed, "counts", 1000, o.ADCMax},
		{"PPGOptions.DCIR", o.DCIR, "counts", 1000, o.ADCMax},
		{"PPGOptions.NoiseCounts", o.NoiseCounts, "counts", 0, 10000},
		{"PPGOptions.PTT", float64(o.PTT.Milliseconds()), "ms", 50, 500},
		{"PPGOptions.RespModFrac", o.RespModFrac, "", 0, 0.05},
		{"PPGOptions.ArtifactsPerMin", o.ArtifactsPerMin, "/min", 0, 60},
		{"PPGOptions.ArtifactFrac", o.ArtifactFrac, "", 0, 0.5},
		{"PPGOptions.AmbientCounts", o.AmbientCounts, "counts", 0, o.ADCMax},
		{"PPGOptions.Calibration.A", o.Calibration.A, "%", 80, 200},
		{"PPGOptions.Calibration.B", o.Calibration.B, "%", 1, 100},
	}
	for _, c := range checks {
		if err := inRange(c.name, c.v, c.unit, c.lo, c.hi); err != nil {
			return err
		}
	}
	// Every SpO2 the patient goes through must map to a ratio in (0, 3]:
	// the line has to cross the patient's whole range.
	for _, s := range []float64{p.spo2.max(), p.spo2.min()} {
		r := o.Calibration.Ratio(s)
		if !(r > 0 && r <= 3) {
			return fmt.Errorf("sim: PPGOptions.Calibration %g − %g·R gives R = %.3g at SpO2 %g %%, allowed 0 < R <= 3: %w",
				o.Calibration.A, o.Calibration.B, r, s, ErrOption)
		}
	}
	if r := o.Calibration.Ratio(p.spo2.min()); r*o.PerfusionIndex/100 >= 0.9 {
		return fmt.Errorf("sim: PPGOptions.PerfusionIndex %g %% with R = %.3g makes the red AC exceed its DC: %w", o.PerfusionIndex, r, ErrOption)
	}
	return validateFaults("PPGOptions", o.Faults, &o.Random, ppgFaultKinds)
}
