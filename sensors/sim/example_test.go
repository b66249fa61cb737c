package sim_test

import (
	"fmt"
	"time"

	"medagent/sensors/sim"
)

// A patient who desaturates and then turns tachycardic, seen by an ECG and
// a pulse oximeter: the demo scenario for the SpO2 and heart-rate alarms.
func Example() {
	p, err := sim.NewPatient(sim.PatientOptions{
		Seed: 42, HeartRate: 75, HRVStd: 0.03, SpO2: 97,
		Changes: []sim.Change{
			{At: 2 * time.Minute, Ramp: 30 * time.Second, SpO2: 84},
			{At: 4 * time.Minute, Ramp: 30 * time.Second, SpO2: 96},
			{At: 6 * time.Minute, Ramp: time.Minute, HeartRate: 135},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ecg, err := p.ECG(sim.DefaultECGOptions())
	if err != nil {
		fmt.Println(err)
		return
	}
	mv, valid := make([]float64, 500), make([]bool, 500) // one second at 500 Hz
	n := ecg.Read(mv, valid)
	fmt.Println("read", n, "ECG samples")

	for _, at := range []time.Duration{time.Minute, 3 * time.Minute, 8 * time.Minute} {
		sp := p.SetPoint(at)
		beats := p.Beats(at, at+time.Minute)
		fmt.Printf("at %v: SpO2 %.0f %%, HR %.0f bpm, %d beats in the next minute\n", at, sp.SpO2, sp.HeartRate, len(beats))
	}

	_, err = p.ECG(sim.ECGOptions{Rate: 2000})
	fmt.Println(err)
	// Output:
	// read 500 ECG samples
	// at 1m0s: SpO2 97 %, HR 75 bpm, 75 beats in the next minute
	// at 3m0s: SpO2 84 %, HR 75 bpm, 75 beats in the next minute
	// at 8m0s: SpO2 96 %, HR 135 bpm, 134 beats in the next minute
	// sim: ECGOptions.Rate = 2000 Hz, allowed 250 to 1000 Hz: invalid option
}
