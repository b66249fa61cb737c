// Package technician answers the field technician's requests on the
// control socket (package control) from the parts of the running agent:
// status, sensors and their latest values, alarms and their
// acknowledgement, spool statistics, certificates, a diagnostic bundle, a
// self-test, and update operations.
//
// It reaches those parts only through the small ports in Ports, each nil
// when the process does not run that part (the uplink role has no
// sensors, the acquire role no broker). Data comes from the ports, the
// configuration and the boot environment; it goes out as the control
// package's JSON types.
package technician
