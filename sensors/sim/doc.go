// Package sim simulates a patient's vital signals, deterministically, for
// the demo, the tests of the edge algorithms, and the register-level chip
// simulators (which turn these physical values into ADC codes).
//
// A Patient owns one heart: its beat schedule (R-peak times) is derived
// from the seed, and every stream made from the patient reads it, so the
// ECG, the PPG pulses (delayed by the pulse transit time) and the heart
// rate a test expects all agree. Patient.Beats returns the true R-peak
// times as ground truth for a QRS detector, Patient.SetPoint the true
// heart rate, SpO2 and temperature at any instant. PatientOptions.Changes
// schedules set-point changes (a desaturation, a tachycardia, a fever) so
// alarms can be shown.
//
// Streams and units (matching sensors.Block):
//   - ECG: mV, lead II–like, 250–1000 Hz, from the ECGSYN dynamical model,
//     with measurement noise, baseline wander, mains interference and
//     motion artefacts.
//   - PPG: red and IR raw ADC counts (as from an 18-bit MAX3010x), 25–400
//     Hz, whose ratio of ratios matches the patient's SpO2 through a
//     pluggable linear calibration (default SpO2 = 110 − 25·R).
//   - Temp: °C with slow drift and noise.
//
// Each stream can show faults, scheduled or drawn at random from the seed:
// Dropout (Valid false), Stuck (the value freezes but Valid stays true, so
// a plausibility check downstream must catch it) and LeadOff (ECG at the
// rail, PPG at ambient light; Valid false and a flag set).
//
// # Determinism
//
// The output is a function of the options and of the sample index only:
// the same options give bit-identical samples (on one platform and build;
// math.Exp is assembly on amd64 and Go elsewhere, and the compiler fuses
// multiply-adds on arm64, so across architectures the last bits may differ
// and the golden test compares with a tolerance), however the reads are
// split, and whatever the wall clock says. Two streams of the same kind
// made from one patient with the same options are identical copies. Sample i of a stream lies at
// i/Rate seconds on the patient's time line, which starts at 0 for every
// stream; the caller maps that to monotonic and wall time. Each stream and
// each purpose within it draws from its own generator derived from
// (Seed, name), so adding a stream or enabling artefacts on one never
// changes another's samples; faults replace samples but never shift the
// signal after them.
//
// # References
//
//   - P. E. McSharry, G. D. Clifford, L. Tarassenko, L. A. Smith, "A
//     dynamical model for generating synthetic electrocardiogram signals",
//     IEEE Trans. Biomed. Eng. 50(3):289–294, 2003,
//     doi:10.1109/TBME.2003.808805. The ECG (event angles, widths and
//     amplitudes of its Table 1) and the bimodal LF/HF RR spectrum are
//     written from this description; see ecg.go for where we depart.
//   - The ratio-of-ratios calibration SpO2 ≈ 110 − 25·R is the common
//     linear approximation of the empirical R curve, good for R of about
//     0.4–1.0 (SpO2 85–100 %); see for instance
//     https://chatppg.com/algorithms/spo2-ratio-of-ratios, and J. G.
//     Webster (ed.), "Design of Pulse Oximeters", IOP 1997, for the
//     principle. Real devices are calibrated per sensor against arterial
//     blood gas; set PPGOptions.Calibration to the coefficients the SpO2
//     algorithm under test uses.
package sim
