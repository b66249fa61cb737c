package devices

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"medagent/hal"
	"medagent/hal/buserr"
	"medagent/sensors/ads1292"
	"medagent/sensors/max3010x"
	"medagent/sensors/nonin"
	"medagent/sensors/tmp117"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
)

// closer halts a part and closes what was opened for it, in order.
type closer []func() error

func (c closer) Close() error {
	var errs []error
	for _, f := range c {
		errs = append(errs, f())
	}
	return errors.Join(errs...)
}

func check(c *hal.SensorConfig, driver ...string) error {
	if err := c.Validate(); err != nil {
		return err
	}
	for _, d := range driver {
		if c.Driver == d {
			return nil
		}
	}
	return fmt.Errorf("sensor %q: driver: %q is not %v: %w", c.Name, c.Driver, driver, buserr.ErrBadConfig)
}

func optBool(c *hal.SensorConfig, key string) bool { return c.Options[key] == "true" }

func optInt(c *hal.SensorConfig, key string, def int) int {
	v, ok := c.Options[key]
	if !ok {
		return def
	}
	n, _ := strconv.ParseInt(v, 0, 64) // Validate checked the syntax
	return int(n)
}

// OpenTMP117 opens a TMP117; the drdy line, if given, is its ALERT
// output used as data-ready (Dev.WaitDataReady). The rate picks CONV[2:0] for the averaging
// (rate 0 keeps 1/s); a rate the part cannot run is an error naming it.
func OpenTMP117(c hal.SensorConfig, sim *hal.Sim) (*tmp117.Dev, io.Closer, error) {
	if err := check(&c, hal.DriverTMP117); err != nil {
		return nil, nil, err
	}
	avg := map[int]tmp117.Averaging{1: tmp117.Avg1, 8: tmp117.Avg8, 32: tmp117.Avg32, 64: tmp117.Avg64}[optInt(&c, "averaging", 8)]
	o := &tmp117.Opts{Avg: &avg}
	if c.Options["mode"] == "oneshot" {
		o.Mode = tmp117.OneShot
	}
	if c.Rate != 0 {
		want := time.Duration(float64(time.Second) / c.Rate)
		found := false
		for conv := uint8(0); conv < 8; conv++ {
			if got := tmp117.CycleTime(conv, avg); math.Abs(float64(got-want)) <= 0.01*float64(want) {
				o.Conv, found = &conv, true
				break
			}
		}
		if !found {
			return nil, nil, fmt.Errorf("sensor %q: rate: %v/s is no TMP117 conversion cycle with averaging %d: %w",
				c.Name, c.Rate, optInt(&c, "averaging", 8), buserr.ErrBadConfig)
		}
	}
	if _, ok := c.Options["offset_mk"]; ok {
		off := physic.Temperature(optInt(&c, "offset_mk", 0)) * physic.MilliKelvin
		o.Offset = &off
	}
	bus, err := hal.OpenI2C(c.Bus, sim)
	if err != nil {
		return nil, nil, fmt.Errorf("sensor %q: %w", c.Name, err)
	}
	if c.DRDY != "" {
		if o.AlertPin, err = hal.OpenPin(c.DRDY, gpio.PullUp, gpio.FallingEdge, sim); err != nil {
			bus.Close()
			return nil, nil, fmt.Errorf("sensor %q: drdy: %w", c.Name, err)
		}
	}
	d, err := tmp117.New(bus, c.Address, o)
	if err != nil {
		bus.Close()
		return nil, nil, fmt.Errorf("sensor %q: %w", c.Name, err)
	}
	return d, closer{d.Halt, bus.Close}, nil
}

// OpenMAX3010x opens a MAX30101 or MAX30102; the drdy line, if given, is
// its INT output.
func OpenMAX3010x(c hal.SensorConfig, sim *hal.Sim) (*max3010x.Dev, io.Closer, error) {
	if err := check(&c, hal.DriverMAX30101, hal.DriverMAX30102); err != nil {
		return nil, nil, err
	}
	o := &max3010x.Opts{
		SampleRate: int(c.Rate),
		PulseWidth: optInt(&c, "pulse_width", 0),
		ADCRange:   optInt(&c, "adc_range", 0),
		Averaging:  optInt(&c, "averaging", 0),
		Rollover:   optBool(&c, "rollover"),
		LEDCurrent: [3]uint8{uint8(optInt(&c, "led_red", 0)), uint8(optInt(&c, "led_ir", 0)), uint8(optInt(&c, "led_green", 0))},
	}
	switch c.Options["mode"] {
	case "hr":
		o.Mode = max3010x.HeartRate
	case "multi":
		o.Mode = max3010x.MultiLED
		o.Slots = [4]max3010x.LED{max3010x.Red, max3010x.IR}
		if c.Driver == hal.DriverMAX30101 && o.LEDCurrent[2] != 0 {
			o.Slots[2] = max3010x.Green
		}
	}
	bus, err := hal.OpenI2C(c.Bus, sim)
	if err != nil {
		return nil, nil, fmt.Errorf("sensor %q: %w", c.Name, err)
	}
	if c.DRDY != "" {
		if o.IntPin, err = hal.OpenPin(c.DRDY, gpio.PullUp, gpio.FallingEdge, sim); err != nil {
			bus.Close()
			return nil, nil, fmt.Errorf("sensor %q: drdy: %w", c.Name, err)
		}
	}
	d, err := max3010x.New(bus, c.Address, o)
	if err != nil {
		bus.Close()
		return nil, nil, fmt.Errorf("sensor %q: %w", c.Name, err)
	}
	return d, closer{d.Halt, bus.Close}, nil
}

// OpenADS1292R opens an ADS1292R. clock is the monotonic clock the driver
// estimates lost frames with (nil: time since open); with simulated chips
// pass the simulators' clock.
func OpenADS1292R(c hal.SensorConfig, sim *hal.Sim, clock func() time.Duration) (*ads1292.Dev, io.Closer, error) {
	if err := check(&c, hal.DriverADS1292R); err != nil {
		return nil, nil, err
	}
	o := &ads1292.Opts{
		Rate:        int(c.Rate),
		Gain:        [2]int{optInt(&c, "gain1", 0), optInt(&c, "gain2", 0)},
		VREF4V:      c.Options["vref"] == "4.033",
		LeadOff:     optBool(&c, "lead_off"),
		RLD:         optBool(&c, "rld"),
		Respiration: optBool(&c, "respiration"),
		Speed:       physic.Frequency(c.SPIMaxHz) * physic.Hertz,
		Clock:       clock,
	}
	port, err := hal.OpenSPI(c.Bus, spi.Mode(c.SPIMode), physic.Frequency(c.SPIMaxHz)*physic.Hertz, sim)
	if err != nil {
		return nil, nil, fmt.Errorf("sensor %q: %w", c.Name, err)
	}
	if o.DRDY, err = hal.OpenPin(c.DRDY, gpio.PullUp, gpio.FallingEdge, sim); err != nil {
		port.Close()
		return nil, nil, fmt.Errorf("sensor %q: drdy: %w", c.Name, err)
	}
	d, err := ads1292.New(port, o)
	if err != nil {
		port.Close()
		return nil, nil, fmt.Errorf("sensor %q: %w", c.Name, err)
	}
	return d, closer{d.Halt, port.Close}, nil
}

// OpenNonin opens a Nonin oximeter's serial port with a read timeout of
// readTimeout (0: 1 s, i.e. 75 frames' worth).
func OpenNonin(c hal.SensorConfig, readTimeout time.Duration) (*nonin.Dev, io.Closer, error) {
	if err := check(&c, hal.DriverNonin); err != nil {
		return nil, nil, err
	}
	if readTimeout == 0 {
		readTimeout = time.Second
	}
	p, err := hal.OpenSerial(c.Bus, *c.Serial, readTimeout)
	if err != nil {
		return nil, nil, fmt.Errorf("sensor %q: %w", c.Name, err)
	}
	return nonin.New(p), p, nil
}
