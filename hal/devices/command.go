package devices

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"medagent/hal"
	"medagent/hal/halsim"
	"medagent/sensors/ads1292"
	"medagent/sensors/max3010x"
	"medagent/sensors/nonin"
	"medagent/sensors/sim"

	"periph.io/x/conn/v3/physic"
)

// optionFlag collects repeated -option key=value flags.
type optionFlag map[string]string

func (o optionFlag) String() string { return fmt.Sprint(map[string]string(o)) }

func (o optionFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("want key=value, got %q", v)
	}
	o[k] = val
	return nil
}

// Command is "medagent sensors probe": it opens one sensor described by
// flags (the keys of a sensor entry), prints its identity check result and
// n readings, and halts it. With -sim the buses are the simulators of a
// halsim rig fed by a default simulated patient, in real time.
func Command(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := hal.SensorConfig{Name: "probe", Options: optionFlag{}}
	fs.StringVar(&c.Driver, "driver", "", "tmp117, max30101, max30102, ads1292r or nonin")
	fs.StringVar(&c.Bus, "bus", "", `I2C bus ("1"), SPI port ("0.0"), serial path, or "sim"`)
	addr := fs.String("address", "", "I2C address (0x48)")
	fs.Float64Var(&c.Rate, "rate", 0, "samples per second (0: driver default)")
	fs.StringVar(&c.DRDY, "drdy", "", "data-ready / interrupt GPIO line (sim:NAME with -sim)")
	fs.IntVar(&c.SPIMode, "spi-mode", 0, "SPI mode (ads1292r: 1)")
	fs.IntVar(&c.SPIMaxHz, "spi-max-hz", 0, "SPI clock limit in Hz")
	serial := fs.String("serial", "9600,8,none,1", "serial framing baud,data_bits,parity,stop_bits (nonin)")
	fs.Var(optionFlag(c.Options), "option", "driver option key=value (repeatable)")
	n := fs.Int("n", 10, "readings to print")
	useSim := fs.Bool("sim", false, "use the simulated chips and patient")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("probe: unexpected arguments %q: %w", fs.Args(), flag.ErrHelp)
	}
	if *addr != "" {
		a, err := strconv.ParseUint(*addr, 0, 7)
		if err != nil {
			return fmt.Errorf("probe: -address %q: %w", *addr, err)
		}
		c.Address = uint16(a)
	}
	if c.Driver == hal.DriverNonin {
		f, err := parseFraming(*serial)
		if err != nil {
			return err
		}
		c.Serial = &f
	}
	var hs *hal.Sim
	clock := func() time.Duration { return 0 }
	if *useSim {
		start := time.Now()
		clock = func() time.Duration { return time.Since(start) }
		p, err := sim.NewPatient(sim.DefaultPatientOptions())
		if err != nil {
			return err
		}
		dir, err := os.MkdirTemp("", "medagent-probe-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		o := halsim.Options{Patient: p, Clock: clock, NoninLink: filepath.Join(dir, "nonin")}
		switch c.Driver {
		case hal.DriverADS1292R:
			o.ECGRate = c.Rate
		case hal.DriverMAX30101, hal.DriverMAX30102:
			o.PPGRate = c.Rate
		case hal.DriverTMP117:
			o.TempRate = c.Rate
		}
		rig, err := halsim.New(o)
		if err != nil {
			return err
		}
		defer rig.Close()
		hs = rig.Sim
		if c.Driver == hal.DriverNonin {
			c.Bus = rig.Nonin.Path()
			runCtx, stop := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- rig.Nonin.Run(runCtx) }()
			defer func() { stop(); <-done }()
		}
	}
	switch c.Driver {
	case hal.DriverTMP117:
		return probeTMP117(ctx, stdout, c, hs, *n)
	case hal.DriverMAX30101, hal.DriverMAX30102:
		return probeMAX(ctx, stdout, c, hs, *n)
	case hal.DriverADS1292R:
		var clk func() time.Duration
		if *useSim {
			clk = clock
		}
		return probeADS(ctx, stdout, c, hs, clk, *n)
	case hal.DriverNonin:
		return probeNonin(ctx, stdout, c, *n)
	}
	return fmt.Errorf("probe: -driver %q: want tmp117, max30101, max30102, ads1292r or nonin: %w", c.Driver, flag.ErrHelp)
}

func parseFraming(s string) (hal.SerialFraming, error) {
	p := strings.Split(s, ",")
	if len(p) != 4 {
		return hal.SerialFraming{}, fmt.Errorf("probe: -serial %q: want baud,data_bits,parity,stop_bits", s)
	}
	baud, e1 := strconv.Atoi(p[0])
	bits, e2 := strconv.Atoi(p[1])
	stop, e3 := strconv.Atoi(p[3])
	if err := errors.Join(e1, e2, e3); err != nil {
		return hal.SerialFraming{}, fmt.Errorf("probe: -serial %q: %w", s, err)
	}
	return hal.SerialFraming{Baud: baud, DataBits: bits, Parity: p[2], StopBits: stop}, nil
}

func probeTMP117(ctx context.Context, w io.Writer, c hal.SensorConfig, hs *hal.Sim, n int) (err error) {
	d, cl, err := OpenTMP117(c, hs)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, cl.Close()) }()
	fmt.Fprintf(w, "%s: TMP117 ID ok, period %s\n", c.Name, d.Period())
	var t physic.Temperature
	for i := 0; i < n && ctx.Err() == nil; i++ {
		if i > 0 || c.DRDY == "" {
			time.Sleep(d.Period())
		}
		if err := d.Sense(&t); err != nil {
			return err
		}
		fmt.Fprintf(w, "temperature %.4f °C\n", float64(t-physic.ZeroCelsius)/float64(physic.Celsius))
	}
	return nil
}

func probeMAX(ctx context.Context, w io.Writer, c hal.SensorConfig, hs *hal.Sim, n int) (err error) {
	d, cl, err := OpenMAX3010x(c, hs)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, cl.Close()) }()
	fmt.Fprintf(w, "%s: MAX3010x part ID ok, %.0f samples/s\n", c.Name, d.Rate())
	buf := make([]max3010x.Sample, max3010x.FIFODepth)
	for got := 0; got < n && ctx.Err() == nil; {
		time.Sleep(time.Duration(float64(time.Second) / d.Rate() * 8))
		k, lost, err := d.ReadFIFO(buf[:min(len(buf), n-got)])
		if err != nil {
			return err
		}
		for _, s := range buf[:k] {
			fmt.Fprintf(w, "red %6d ir %6d green %6d lost %d\n", s.Red, s.IR, s.Green, lost)
			lost = 0
		}
		got += k
	}
	return nil
}

func probeADS(ctx context.Context, w io.Writer, c hal.SensorConfig, hs *hal.Sim, clock func() time.Duration, n int) (err error) {
	d, cl, err := OpenADS1292R(c, hs, clock)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, cl.Close()) }()
	fmt.Fprintf(w, "%s: ADS1292R ID ok, period %s, LSB %.3g/%.3g mV\n", c.Name, d.Period(), d.LSB(0), d.LSB(1))
	var f ads1292.Frame
	for i := 0; i < n && ctx.Err() == nil; i++ {
		if err := d.Read(&f); err != nil {
			return err
		}
		fmt.Fprintf(w, "ch1 %+.4f mV ch2 %+.4f mV leadoff %05b lost %d\n", f.MV[0], f.MV[1], f.LeadOff, f.Lost)
	}
	return nil
}

func probeNonin(ctx context.Context, w io.Writer, c hal.SensorConfig, n int) (err error) {
	d, cl, err := OpenNonin(c, 2*time.Second)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, cl.Close()) }()
	var f nonin.Frame
	for got := 0; got < n && ctx.Err() == nil; {
		pk, err := d.Read(&f)
		if err != nil {
			return err
		}
		if pk {
			p := d.Packet()
			fmt.Fprintf(w, "HR %s SpO2 %s status %08b\n", num(p.HR, nonin.HRMissing), num(p.SpO2, nonin.SpO2Missing), f.Status)
			got++
		}
	}
	st := d.Stats()
	fmt.Fprintf(w, "frames %d bad checksums %d skipped bytes %d\n", st.Frames, st.BadChecksum, st.Skipped)
	return nil
}

func num(v, missing int) string {
	if v == missing {
		return "---"
	}
	return strconv.Itoa(v)
}
