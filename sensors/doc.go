// Package sensors is what every sensor part has in common: the
// Descriptor each sensors/<chip> package exports (driver names, link,
// options, what it delivers, how to open it), the Config of one sensor
// entry, the Buses a part is opened on, and the Blocks of samples a Device
// fills for acquisition's sampling loop.
//
// A sensor lives in one package, sensors/<chip>: the register-level
// driver (periph style: New(bus, addr, *Opts), Sense/Read, Halt; never
// logs, never starts goroutines), its Descriptor and Settings (options:
// with YAML tags and Check), and the Device adapter that turns its reads
// into Blocks with lost samples in place. sensors/registry maps the
// driver names of the configuration to the descriptors; the optional
// simulator is sensors/<chip>/<chip>sim, wired to a simulated patient by
// sensors/simrig for bench builds.
//
// Data comes from the parts through the buses (package hal, or the
// simulators); it goes to package acquire as Blocks stamped with a
// monotonic time and the rate.
package sensors
