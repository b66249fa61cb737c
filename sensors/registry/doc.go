// Package registry maps the driver names of sensor entries to the sensor
// descriptors (sensors.Descriptor). Adding a sensor part is a package
// sensors/<chip> that exports a Descriptor, and one line in the list in
// registry.go.
//
// Data comes from the configuration's sensors: entries (their driver
// key); it goes to config (validation with file:line errors) and acquire
// (opening the parts).
package registry
