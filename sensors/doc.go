// Package sensors holds what every sensor produces: blocks of samples for
// one stream, stamped with a monotonic time and the sample rate.
//
// Drivers (sensors/tmp117, sensors/max3010x, sensors/ads1292, sensors/nonin)
// and the simulators (sensors/sim) fill Blocks; the agent's sampling loop
// hands them to the edge stage.
package sensors
