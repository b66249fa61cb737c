package config

import (
	"fmt"
	"strings"
	"time"

	"medagent/hal"
)

// knownDrivers is listed in errors about an unknown driver.
const knownDrivers = "sim-ecg, sim-ppg, sim-temp, tmp117, max3010x (max30101, max30102), ads1292 (ads1292r), nonin"

// check validates one sensor entry; key is "sensors[i]".
func (s Sensor) check(c *checker, key string) {
	if r, ok := sensorRates[s.Driver]; ok {
		c.rangeF(key+".rate", s.Rate, r[0], r[1])
		c.oneOf(key+".bus", s.Bus, "sim")
		if s.Address != 0 || s.DRDY != "" || s.SPIMode != 0 || s.SPIMaxHz != 0 || s.Channel != 0 ||
			s.Serial != (hal.SerialFraming{}) || len(s.Options) != 0 {
			c.add(key+".driver", "%s is a pure generator: address, drdy, spi_mode, spi_max_hz, channel, serial and options are for real drivers", s.Driver)
		}
		if s.StuckAfter != 0 {
			c.add(key+".stuck_after", "not used by the %s generator", s.Driver)
		}
		return
	}
	h := s.HAL()
	if err := h.Validate(); err != nil {
		sub, msg := halKey(h.Name, err)
		if strings.HasPrefix(msg, "driver: ") || sub == "driver" {
			c.add(key+".driver", "unknown driver %q (known: %s)", s.Driver, knownDrivers)
			return
		}
		c.add(key+"."+sub, "%s", msg)
		return
	}
	if s.Channel != 0 {
		if h.Driver != hal.DriverADS1292R {
			c.add(key+".channel", "only for the ads1292 (which input carries lead II)")
		} else {
			c.rangeI(key+".channel", int64(s.Channel), 1, 2)
		}
	}
	if s.StuckAfter != 0 {
		c.rangeD(key+".stuck_after", s.StuckAfter, 100*time.Millisecond, time.Hour)
	}
	if h.Driver == hal.DriverNonin && s.Bus == hal.SimName && s.Serial != (hal.SerialFraming{}) {
		c.add(key+".serial", "the simulated oximeter (bus sim) has its fixed framing; leave serial out")
	}
}

// halKey splits a hal.SensorConfig.Validate error, `sensor "NAME": KEY:
// MESSAGE: invalid configuration`, into the key and the message. The format
// is pinned by TestSensorErrorsNameTheKey; anything else names the entry.
func halKey(name string, err error) (key, msg string) {
	m := strings.TrimPrefix(err.Error(), fmt.Sprintf("sensor %q: ", name))
	m = strings.TrimSuffix(m, ": invalid configuration")
	k, rest, ok := strings.Cut(m, ": ")
	if !ok || strings.ContainsAny(k, " \"") {
		return "driver", m
	}
	return k, rest
}
