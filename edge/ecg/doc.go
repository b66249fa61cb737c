// Package ecg conditions a single ECG lead and detects QRS complexes in
// real time, one sample at a time.
//
// Samples come from an ECG front end (sensors/ads1292 on the device, or a
// WFDB record through edge/replay) in millivolts at 250–1000 Hz; beats go
// to the vitals pipeline (heart rate, alarms) and to edge/ec57 for scoring.
//
// The detector follows the structure published by Pan & Tompkins (IEEE
// Trans. Biomed. Eng. 32(3), 1985) and Hamilton & Tompkins (IEEE Trans.
// Biomed. Eng. 33(12), 1986): a 5–15 Hz band-pass, a derivative, squaring
// and a 150 ms moving-window integral; peaks of the integral are compared
// with an adaptive threshold between running signal and noise peak levels;
// a 200 ms refractory period, T-wave discrimination by slope up to 360 ms,
// and a searchback for a missed beat after 1.66 average RR intervals. The
// R peak is placed on the extremum of the conditioned signal (0.5 Hz
// high-pass, optional 50/60 Hz notch). The code is this project's own.
//
// Everything is sized at construction: Push does not allocate.
package ecg
