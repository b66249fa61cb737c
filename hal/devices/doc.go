// Package devices opens the sensor drivers a hal.SensorConfig names: it
// validates the entry, opens its bus, port or serial line and its
// data-ready line through hal (hardware or the "sim" simulators), turns
// the config's rate and options into the driver's Opts and probes the
// chip. What it returns is the plain driver plus a Closer that halts the
// part and releases the bus; the sampling policy stays with the agent.
package devices
