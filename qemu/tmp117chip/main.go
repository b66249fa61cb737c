// Command tmp117chip is QEMU bench equipment (never part of a device
// image): it plays the part of a TMP117 that the kernel's i2c-stub, a plain
// register file, cannot. The test runs it in the guest beside the agent.
// When the agent starts a one-shot conversion (MOD=11 in the configuration
// register), it writes the result register with the body temperature the
// test set in a file (the register's value, 7.8125 m°C a bit; its last
// bit moves from one conversion to the next, as a real probe's does), then
// raises Data_Ready and returns to shutdown, as the chip does at the end of
// a conversion (datasheet SNOSD82, 7.4.2 and 7.6.1.2).
//
// usage: tmp117chip /dev/i2c-N ADDRESS TEMPFILE
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"medagent/hal"
	"medagent/sensors/tmp117"
)

const (
	modShift = 10
	modMask  = 3 << modShift
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "tmp117chip:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) != 3 {
		return fmt.Errorf("usage: tmp117chip /dev/i2c-N ADDRESS TEMPFILE")
	}
	addr, err := strconv.ParseUint(args[1], 0, 7)
	if err != nil {
		return fmt.Errorf("address %q: %w", args[1], err)
	}
	bus, err := hal.OpenI2CPath(args[0])
	if err != nil {
		return err
	}
	defer bus.Close()
	read := func(reg byte) (uint16, error) {
		var r [2]byte
		err := bus.Tx(uint16(addr), []byte{reg}, r[:])
		return uint16(r[0])<<8 | uint16(r[1]), err
	}
	write := func(reg byte, v uint16) error {
		return bus.Tx(uint16(addr), []byte{reg, byte(v >> 8), byte(v)}, nil)
	}
	lsb := uint16(0)
	for range time.Tick(10 * time.Millisecond) {
		cfg, err := read(tmp117.RegConfig)
		if err != nil {
			return err
		}
		if cfg&modMask != uint16(tmp117.OneShot)<<modShift {
			continue
		}
		b, err := os.ReadFile(args[2])
		if err != nil {
			return err
		}
		v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 0, 16)
		if err != nil {
			return fmt.Errorf("%s: %w", args[2], err)
		}
		lsb ^= 1
		if err := write(tmp117.RegTemp, uint16(v)+lsb); err != nil {
			return err
		}
		if err := write(tmp117.RegConfig, cfg&^modMask|uint16(tmp117.Shutdown)<<modShift|tmp117.CfgDataReady); err != nil {
			return err
		}
	}
	return nil
}
