// Package pipeline is the edge stage as a pure state machine: sample blocks
// in, one telemetry pack per sensor per window and alarm packs out.
//
// It runs the clinical algorithms on each sensor's samples (edge/ecg for
// heart rate, edge/ppg for SpO2, pulse rate and perfusion, edge/temp for
// body temperature), keeps window statistics of every raw stream (min,
// mean, max and a validity flag), feeds the vitals and the technical
// conditions to the alarm manager (edge/alarm) and turns its transitions
// into alarm packs. Raw waveforms leave only for sensors listed in
// Config.Waveforms, decimated.
//
// It does no I/O, starts no goroutines and reads no clock: the agent's
// edge goroutine (agent/edge.go) and `medagent replay --vitals` drive it.
package pipeline
