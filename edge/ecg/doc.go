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
// Decisions are made at a fixed deadline, MaxLatency (300 ms) after the R
// peak: until then a candidate can be replaced by a following complex
// with 30 % more energy and a steeper slope (a QRS after a tall P wave).
// Two kinds of beat are reported later and flagged: beats of the 2 s
// learning period (after start and after a gap longer than 0.5 s), and
// searchback beats, which by their nature are found only after 1.66 RR
// without a beat. On a clean lead a sub-threshold complex eight times the
// noise level is accepted at once, which keeps searchback rare (about
// 0.15 % of beats on the shared MIT-BIH records).
//
// Gaps (invalid samples, NaN, ±Inf, absurd magnitudes) up to 0.5 s are
// bridged by holding the last value; longer gaps reset the detector, and
// the first beat after them has no RR interval. A complex next to a
// bridged gap is accepted at a tenth of the threshold, since the lost
// samples took part of its energy. The Monitor treats what lost samples
// may hide (gaps.go): an R-R interval spanning them does not enter the
// average, a pause across one that can hide a QRS is reported only when
// the lead around it is quiet, and they do not interrupt the asystole
// timer on a flat lead.
//
// A Monitor wraps the detector with what a bedside monitor derives from
// the beats: the heart rate averaged as ANSI/AAMI EC13 asks (hr.go), a
// signal quality index once a second with its gate (quality.go, with the
// patient's beat shapes in library.go and the low-frequency balance in
// balance.go), and the time without a credible QRS complex with whether
// the lead is flat, for the asystole and pause alarms (monitor.go,
// standstill.go: after loud noise a standstill needs a longer flat line,
// so the quiet stretches of bursty noise are not asystole).
//
// Tall T waves: within 300 ms of a beat, a candidate with under 3/4 of the
// beat's steepest slope and under half its energy in the QRS band is a T
// wave (T waves of 1.2 mV with a 100 ms QRS are not counted); from 300 to
// 360 ms the slope test alone applies, except for a big complex of the
// other polarity (an early premature ventricular beat).
//
// Everything is sized at construction: Push does not allocate.
package ecg
