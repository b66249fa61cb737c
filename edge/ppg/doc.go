// Package ppg turns red and infrared photoplethysmogram samples into pulse
// rate, SpO2, perfusion index and signal-quality flags.
//
// Data comes in sample by sample from a PPG front end (a MAX3010x gives raw
// 18-bit counts at 25 to 400 Hz; the simulator gives the same) and goes out
// as a Result per sample, which the edge stage turns into telemetry and feeds
// to the alarm manager (edge/alarm). Time is the sample index: samples are
// evenly spaced at Config.Rate and an invalid sample is a gap that still
// takes its slot, so the package never reads a clock.
//
// Processing, per sample:
//
//   - both channels go through the same causal filters, so the pulsatile
//     parts keep their ratio: a fourth-order Butterworth high-pass at
//     0.5 Hz (respiratory wander larger than the pulse must not hide it),
//     then a low-pass at min(12 Hz, 0.4·rate) for the AC
//     measurement; the IR channel also goes through a 5 Hz low-pass (a
//     0.5–5 Hz band-pass in all) for pulse detection;
//   - pulses are detected on the filtered infrared channel, negated when
//     Config.Inverted (raw counts fall as each pulse arrives, as on a
//     MAX3010x; without it the detector would find the pulse foot or the
//     dicrotic notch and the rate would wander with heart rate
//     variability): a peak above an
//     adaptive threshold that starts at 60 % of the running peak height
//     after each pulse and falls to 20 % over the next second (so a smaller
//     pulse is still found), never below the noise floor Config.MinPI,
//     confirmed when the signal falls below half the peak's height;
//     a refractory period of 45 % of the median pulse interval, kept within
//     250–400 ms (at most 240 /min), rejects dicrotic waves; the peak time is
//     interpolated with a parabola through its neighbours;
//   - for every pulse, AC is the peak-to-peak of the filtered signal and DC
//     the mean of the raw signal over that pulse, which gives the ratio of
//     ratios R = (AC_red/DC_red)/(AC_ir/DC_ir) and the perfusion index
//     PI = 100·AC_ir/DC_ir;
//   - the last Config.Average pulses are averaged: pulse rate from the mean
//     of their intervals that lie within 30 % of the median interval (one
//     missed or extra pulse does not pull the rate); SpO2 = A − B·R̄
//     clamped to 0..100, R̄ the mean of the pulses' R within 15 % of their
//     median, leaving out pulses with a DC jump (one pulse disturbed in one
//     channel does not pull SpO2); PI the mean of the pulses' PI.
//
// Values need Config.MinPulses pulses and expire 3 s after the last pulse
// (gaps included) or as soon as the probe comes off: a value is never
// shown stale.
//
// Calibration. SpO2 = 110 − 25·R is the widely quoted linear approximation
// of the empirical R-to-SaO2 curve of transmissive finger oximeters, close
// to the measured curves only for R 0.4–1.0 (SpO2 85–100 %); below that the
// real curves bend. It is a default for development, not a calibration:
// every sensor model (LED wavelengths, optical geometry, reflective or
// transmissive) needs its own curve from a controlled desaturation study
// against arterial blood gas (ISO 80601-2-61), configured as Config.CalA and
// Config.CalB. An R outside [Config.RMin, Config.RMax] marks SpO2 invalid.
//
// Flags: ProbeOff when either raw channel stays below ProbeOffDC or at or
// above SaturationDC for a quarter of a second (no finger, or the ADC is
// saturated); Motion when one of the averaged pulses had an interval or an
// amplitude far from the others or the DC level jumped between pulses;
// LowPerfusion when PI is below LowPerfusionPI. An irregular rhythm (atrial
// fibrillation) also raises Motion: the flag means "pulses disagree", not a
// diagnosis; Artefact is the part of it that is not the rhythm (a DC jump,
// an amplitude far from the others). The flags do not invalidate the
// values here; the edge stage (edge/pipeline) is the quality gate: with
// Artefact or LowPerfusion it shows no SpO2 and pulse rate, holds their
// alarms and raises the technical alarm poor_signal (edge/alarm); ProbeOff
// becomes probe_off. Each pulse also reports its own SpO2 and rate
// (BeatSpO2, BeatRate), which start the alarm condition delay
// (alarm.Manager.Instant).
package ppg
