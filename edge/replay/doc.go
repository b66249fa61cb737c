// Package replay feeds WFDB records through the edge signal processing as
// if they came from a live front end: `medagent replay --wfdb PATH/RECORD
// --beats` prints detected beats, `--vitals` prints the heart rate once per
// second.
//
// Records are read with package wfdb; beats come from edge/ecg. The same
// helpers drive the EC57 bench (bench/ecg) and the detector accuracy tests.
package replay
