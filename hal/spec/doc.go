// Package spec is what a configuration may say about a bus, without
// touching one: the names of I²C buses and SPI ports and the framing of
// a serial line, with their checks. It does no I/O, so configuration and
// sensor descriptors can use it; package hal opens what it names.
package spec
