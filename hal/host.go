package hal

import (
	"fmt"
	"sync"

	"periph.io/x/conn/v3/driver/driverreg"

	// Only the kernel-interface drivers: GPIO character devices
	// (gpiochip ioctl, with edge events) and sysfs/spidev. periph's
	// host.Init would also register the memory-mapped SoC drivers
	// (bcm283x, allwinner) on arm, which map /dev/gpiomem and grow the
	// binary; a device agent should go through the kernel.
	_ "periph.io/x/host/v3/gpioioctl"
	_ "periph.io/x/host/v3/sysfs"
)

var (
	initOnce sync.Once
	initErr  error
)

// Init loads the periph.io kernel-interface drivers (GPIO chips, SPI
// ports) once per process. Drivers that find no hardware are not an
// error; a driver that fails to load is.
func Init() error {
	initOnce.Do(func() {
		st, err := driverreg.Init()
		if err != nil {
			initErr = fmt.Errorf("hal: host init: %w", err)
			return
		}
		for _, f := range st.Failed {
			initErr = fmt.Errorf("hal: host driver %s failed: %w", f.D, f.Err)
			return
		}
	})
	return initErr
}
