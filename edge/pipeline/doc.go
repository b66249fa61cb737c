// Package pipeline is the edge stage as a pure state machine: sample blocks
// in, one telemetry pack per sensor per window and alarm packs out.
//
// It runs the clinical algorithms on each sensor's samples (an ecg.Monitor
// for the heart rate, its quality and the asystole and pause conditions,
// edge/ppg for SpO2, pulse rate and perfusion, edge/temp for body
// temperature), keeps window statistics of every raw stream (min, mean,
// max and a validity flag), feeds the vitals, their beat-to-beat values and
// the technical conditions to the alarm manager (edge/alarm) and turns its
// transitions into alarm packs. It is the quality gate: a heart rate during
// ECG noise, or SpO2 and pulse rate during a PPG artefact or low
// perfusion, are sent without a value (valid false) and their alarms are
// held, with the technical alarm that says why. Raw waveforms leave only
// for sensors listed in Config.Waveforms, decimated.
//
// It does no I/O, starts no goroutines and reads no clock: the edge stage
// of acquisition (acquire/edge.go: Flush once a window, Tick between) and
// `medagent replay --vitals` drive it.
package pipeline
