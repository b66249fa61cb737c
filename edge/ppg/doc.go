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
//   - both channels go through the same causal band-pass (second-order
//     Butterworth high-pass at 0.5 Hz, then low-pass at 5 Hz), so the
//     pulsatile parts keep their ratio;
//   - pulses are detected on the filtered infrared channel with an adaptive
//     threshold (half the running peak height), a refractory period of half
//     the mean pulse interval (never less than 250 ms, i.e. 240 /min) and
//     parabolic interpolation of the peak time;
//   - for every pulse, AC is the peak-to-peak of the filtered signal and DC
//     the mean of the raw signal over that pulse, which gives the ratio of
//     ratios R = (AC_red/DC_red)/(AC_ir/DC_ir) and the perfusion index
//     PI = 100·AC_ir/DC_ir;
//   - the last Config.Average pulses are averaged: pulse rate from their
//     intervals, SpO2 = A − B·R̄ clamped to 0..100.
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
// diagnosis.
package ppg
