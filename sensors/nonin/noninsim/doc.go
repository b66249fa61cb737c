// Package noninsim is a simulated Nonin oximeter on a pseudo-terminal: it
// writes Data Format #2 frames to the master side of a pty, so the real
// serial path (hal.OpenSerial on the slave, termios and all) and the nonin
// reader run unchanged in tests and the demo.
//
// Path is a stable symlink to the current /dev/pts/N, like a udev
// /dev/serial/by-id link, so Unplug (closing the pty: the reader sees a
// hang-up) and Replug (a new pty behind the same link) exercise the
// agent's reopen logic. Pleth comes from an injected Waveform; HR and SpO2
// from SetNumerics; status bits and bad checksums can be injected.
package noninsim
