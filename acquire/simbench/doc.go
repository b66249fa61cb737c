// Package simbench plugs the bench's simulators (sensors/simrig) into
// acquisition: New is an acquire.NewBench. Bench builds link it (the
// medagent-sim command, tests); the device binary never does.
package simbench
