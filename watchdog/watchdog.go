package watchdog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"medagent/internal/field"
)

// DefaultInterval is how often the device is pet when Options.Interval is
// zero. Typical SoC watchdogs time out after 15 to 60 s.
const DefaultInterval = 5 * time.Second

// Options configures a Watchdog.
type Options struct {
	// Device is the hardware watchdog to pet, e.g. /dev/watchdog. Empty
	// leaves the hardware alone.
	Device string `yaml:"device"`
	// Interval between pets of Device (and an upper bound on the systemd
	// interval). Zero means DefaultInterval.
	Interval time.Duration `yaml:"interval"`
	// Healthy reports whether the agent makes progress. Nil means always
	// healthy. It is called once per interval and must not block long.
	Healthy func() error `yaml:"-"`
}

func (o *Options) ensureDefaults() {
	if o.Interval == 0 {
		o.Interval = DefaultInterval
	}
	if o.Healthy == nil {
		o.Healthy = func() error { return nil }
	}
}

// Check validates the options; a problem is a *field.Error naming the
// key. Zero Interval takes DefaultInterval.
func (o Options) Check() error {
	if o.Interval != 0 && (o.Interval < 10*time.Millisecond || o.Interval > 10*time.Minute) {
		return field.Errorf("interval", "must be 10ms..10m0s, got %v", o.Interval)
	}
	return nil
}

// Watchdog feeds the systemd and hardware watchdogs while the agent is
// healthy.
type Watchdog struct {
	opts   Options
	log    *slog.Logger
	notify *notifier
	sdTick time.Duration // 0: systemd watchdog off
}

// New reads the systemd environment (NOTIFY_SOCKET, WATCHDOG_USEC,
// WATCHDOG_PID) and checks the options. It does not open the device:
// Run does, so that the watchdog is armed only while Run runs.
func New(opts Options, log *slog.Logger) (*Watchdog, error) {
	if err := opts.Check(); err != nil {
		return nil, fmt.Errorf("watchdog: %w", err)
	}
	opts.ensureDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &Watchdog{opts: opts, log: log, notify: newNotifier(getenv("NOTIFY_SOCKET"))}
	tick, err := systemdInterval(getenv("WATCHDOG_USEC"), getenv("WATCHDOG_PID"), os.Getpid())
	if err != nil {
		return nil, err
	}
	if tick > 0 && w.notify == nil {
		return nil, fmt.Errorf("watchdog: WATCHDOG_USEC set without NOTIFY_SOCKET: %w", errBadEnv)
	}
	w.sdTick = tick
	return w, nil
}

// Run sends READY=1 once the agent is first healthy, then pets both
// watchdogs each period while Healthy returns nil, until ctx ends. A
// cancelled ctx is a clean stop and returns nil. Failing to open or write
// the device, or to reach the notify socket, returns an error: the
// caller's errgroup then stops the agent, and the watchdogs do the rest.
func (w *Watchdog) Run(ctx context.Context) (err error) {
	if w.notify == nil && w.opts.Device == "" {
		w.log.Debug("watchdog: neither systemd nor a device watchdog configured")
		return nil
	}
	var dev io.WriteCloser
	if w.opts.Device != "" {
		f, err := os.OpenFile(w.opts.Device, os.O_WRONLY, 0)
		if err != nil {
			return fmt.Errorf("watchdog: open device: %w", err)
		}
		dev = f
	}
	period := w.opts.Interval
	if w.sdTick > 0 && (w.opts.Device == "" || w.sdTick < period) {
		period = w.sdTick
	}
	healthy := false
	defer func() {
		if cerr := w.stop(dev, healthy); err == nil {
			err = cerr
		}
	}()

	ready := false
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		herr := w.opts.Healthy()
		switch {
		case herr == nil && !healthy:
			w.log.Info("watchdog: agent healthy, petting", "period", period, "device", w.opts.Device)
		case herr != nil && healthy:
			w.log.Warn("watchdog: agent unhealthy, not petting", "err", herr)
		case herr != nil && !ready:
			w.log.Warn("watchdog: agent not yet healthy", "err", herr)
		}
		healthy = herr == nil
		if healthy {
			if err := w.pet(dev, !ready); err != nil {
				return err
			}
			ready = true
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// pet feeds the device and systemd; the first call also says READY=1.
func (w *Watchdog) pet(dev io.Writer, first bool) error {
	if dev != nil {
		if _, err := dev.Write([]byte{'.'}); err != nil {
			return fmt.Errorf("watchdog: pet device %s: %w", w.opts.Device, err)
		}
	}
	if w.notify == nil {
		return nil
	}
	msg := ""
	if first {
		msg = "READY=1\n"
	}
	if w.sdTick > 0 {
		msg += "WATCHDOG=1\n"
	}
	if msg == "" {
		return nil
	}
	return w.notify.send(msg)
}

// stop disarms the device with the magic 'V' only if the agent was healthy
// at the end; an unhealthy agent leaves it armed so the board resets.
func (w *Watchdog) stop(dev io.WriteCloser, healthy bool) error {
	var errs []error
	if dev != nil {
		if healthy {
			if _, err := dev.Write([]byte{'V'}); err != nil {
				errs = append(errs, fmt.Errorf("watchdog: magic close %s: %w", w.opts.Device, err))
			}
		} else {
			w.log.Warn("watchdog: stopping while unhealthy, device left armed", "device", w.opts.Device)
		}
		if err := dev.Close(); err != nil {
			errs = append(errs, fmt.Errorf("watchdog: close %s: %w", w.opts.Device, err))
		}
	}
	if w.notify != nil {
		if err := w.notify.send("STOPPING=1\n"); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
