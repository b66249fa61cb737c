package acquire

import (
	"io"
	"time"

	"medagent/hal"
	"medagent/sensors"
)

// hostBuses are the hardware's buses, through hal.
func hostBuses() sensors.Buses {
	return sensors.Buses{
		I2C: hal.OpenI2C,
		SPI: hal.OpenSPI,
		Pin: hal.OpenPin,
		Serial: func(path string, f hal.SerialFraming, readTimeout time.Duration) (io.ReadWriteCloser, error) {
			return hal.OpenSerial(path, f, readTimeout)
		},
	}
}
