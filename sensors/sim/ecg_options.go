package sim

// ECGOptions configures an ECG stream (lead II–like, in mV). Noise and
// interference fields are zero when off; see DefaultECGOptions for a
// realistic bedside mix.
type ECGOptions struct {
	// Rate is the sample rate in Hz, 250–1000 (0: 500).
	Rate float64
	// AmplitudeMV is the R-wave height above the isoelectric line, 0.1–5 mV
	// (0: 1.2).
	AmplitudeMV float64
	// NoiseMV is the standard deviation of white measurement noise, 0–2 mV.
	NoiseMV float64
	// WanderMV and WanderHz set the baseline wander, a sine of 0–5 mV
	// amplitude at 0.01–2 Hz (WanderHz 0: the respiration rate).
	WanderMV float64
	WanderHz float64
	// MainsHz (0, 50 or 60) and MainsMV (0–2 mV) set power-line
	// interference.
	MainsHz float64
	MainsMV float64
	// ArtifactsPerMin is the mean rate of motion artefacts, 0–60 per
	// minute; ArtifactMV their typical size, 0–10 mV (0: 0.5 mV).
	ArtifactsPerMin float64
	ArtifactMV      float64
	// RailMV is the front end's full scale, 1–100 mV (0: 5): the output is
	// clipped to ±RailMV and sits at +RailMV while a lead is off.
	RailMV float64
	// Faults are scheduled faults; Random adds faults drawn from the seed.
	Faults []Fault
	Random RandomFaults
}

// Default ECG values.
const (
	DefaultECGRate     = 500.0
	DefaultAmplitudeMV = 1.2
	DefaultArtifactMV  = 0.5
	DefaultRailMV      = 5.0
)

// DefaultECGOptions returns a realistic monitor ECG at 500 Hz: a little
// noise, respiratory baseline wander, 50 Hz mains pick-up and an
// occasional motion artefact.
func DefaultECGOptions() ECGOptions {
	return ECGOptions{
		Rate:            DefaultECGRate,
		AmplitudeMV:     DefaultAmplitudeMV,
		NoiseMV:         0.02,
		WanderMV:        0.1,
		MainsHz:         50,
		MainsMV:         0.02,
		ArtifactsPerMin: 0.5,
		ArtifactMV:      DefaultArtifactMV,
		RailMV:          DefaultRailMV,
	}
}

var ecgFaultKinds = []FaultKind{Stuck, Dropout, LeadOff}

func (o *ECGOptions) ensureDefaults(p *Patient) {
	if o.Rate == 0 {
		o.Rate = DefaultECGRate
	}
	if o.AmplitudeMV == 0 {
		o.AmplitudeMV = DefaultAmplitudeMV
	}
	if o.WanderHz == 0 {
		o.WanderHz = p.opts.RespRate / 60
	}
	if o.ArtifactMV == 0 {
		o.ArtifactMV = DefaultArtifactMV
	}
	if o.RailMV == 0 {
		o.RailMV = DefaultRailMV
	}
}

func (o *ECGOptions) validate() error {
	if err := rateInRange("ECGOptions.Rate", o.Rate, 250, 1000); err != nil {
		return err
	}
	checks := []struct {
		name   string
		v      float64
		unit   string
		lo, hi float64
	}{
		{"ECGOptions.AmplitudeMV", o.AmplitudeMV, "mV", 0.1, 5},
		{"ECGOptions.NoiseMV", o.NoiseMV, "mV", 0, 2},
		{"ECGOptions.WanderMV", o.WanderMV, "mV", 0, 5},
		{"ECGOptions.WanderHz", o.WanderHz, "Hz", 0.01, 2},
		{"ECGOptions.MainsMV", o.MainsMV, "mV", 0, 2},
		{"ECGOptions.ArtifactsPerMin", o.ArtifactsPerMin, "/min", 0, 60},
		{"ECGOptions.ArtifactMV", o.ArtifactMV, "mV", 0, 10},
		{"ECGOptions.RailMV", o.RailMV, "mV", 1, 100},
	}
	for _, c := range checks {
		if err := inRange(c.name, c.v, c.unit, c.lo, c.hi); err != nil {
			return err
		}
	}
	if o.MainsHz != 0 && o.MainsHz != 50 && o.MainsHz != 60 {
		return inRangeSet("ECGOptions.MainsHz", o.MainsHz, "Hz", "0, 50 or 60")
	}
	if o.MainsHz == 0 && o.MainsMV != 0 {
		return inRangeSet("ECGOptions.MainsHz", o.MainsHz, "Hz", "50 or 60 when MainsMV is set")
	}
	return validateFaults("ECGOptions", o.Faults, &o.Random, ecgFaultKinds)
}
