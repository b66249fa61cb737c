package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os/exec"
	"strings"
	"time"

	"medagent/config"
	"medagent/trust/command"
	"medagent/trust/keyring"
)

// commander obeys signed commands from the command topic. Verification
// (signature, device, expiry, nonce) happens on the MQTT receive path; the
// slow work (an update download, a reboot) is queued to Run, its owner.
type commander struct {
	v    *command.Verifier
	ring *keyring.Ring
	log  *slog.Logger
	now  func() time.Time
	work chan func(ctx context.Context)

	grace  time.Duration // update.monitoring_grace
	reboot []string      // update.reboot_command
	// patient is nil without acquisition in this process, installer
	// without the update engine.
	patient   monitor
	installer urlInstaller
}

// monitor says whether a patient is being monitored (the clinical lock).
type monitor interface {
	Monitoring(grace time.Duration) bool
}

// urlInstaller installs an update from an https URL.
type urlInstaller interface {
	InstallURL(ctx context.Context, url string) error
}

// errBusy: one slow command at a time; the back end may retry.
var errBusy = errors.New("another command is still running")

func newCommander(cfg config.Config, log *slog.Logger, now func() time.Time) (*commander, error) {
	c := cfg.Commands
	ring, err := keyring.Load(c.Keyring)
	if err != nil {
		return nil, fmt.Errorf("commands: %w", err)
	}
	v, err := command.NewVerifier(command.Options{DeviceID: cfg.Device.ID, Keys: ring, NonceFile: c.NonceFile})
	if err != nil {
		return nil, fmt.Errorf("commands: %w", err)
	}
	return &commander{v: v, ring: ring, log: log, now: now, work: make(chan func(context.Context), 1),
		grace: cfg.Update.MonitoringGrace, reboot: cfg.Update.RebootCommand}, nil
}

// handle verifies and dispatches one command and returns the JSON result
// for the cmd-result topic.
func (c *commander) handle(ctx context.Context, payload []byte) []byte {
	res := c.v.Handle(c.now(), payload, func(cmd command.Command) error { return c.dispatch(ctx, cmd) })
	c.log.Info("command", "name", res.Name, "status", res.Status, "code", res.Code)
	b, err := json.Marshal(res)
	if err != nil {
		return nil
	}
	return b
}

func (c *commander) dispatch(ctx context.Context, cmd command.Command) error {
	switch cmd.Name {
	case command.Diagnostics:
		return nil
	case command.Config:
		applied, err := c.ring.Apply(cmd)
		if err != nil {
			return err
		}
		if !applied {
			return errors.New("only keyring changes are supported by the config command")
		}
		return nil
	case command.Reboot:
		if c.patient == nil {
			return errors.New("reboot is not available in the uplink role")
		}
		if c.patient.Monitoring(c.grace) {
			return errors.New("refused: a patient is being monitored (clinical-use lock); reboot from the technician shell")
		}
		argv := c.reboot
		return c.queue(func(ctx context.Context) {
			if out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput(); err != nil {
				c.log.Error("reboot command failed", "err", err, "output", strings.TrimSpace(string(out)))
			}
		})
	case command.Update:
		if c.installer == nil {
			return errors.New("updates are not enabled in this process (update.enabled, role all or acquire)")
		}
		u, err := url.Parse(cmd.Args["url"])
		if err != nil || u.Scheme != "https" {
			return fmt.Errorf("update needs an https url, got %q", cmd.Args["url"])
		}
		return c.queue(func(ctx context.Context) {
			if err := c.installer.InstallURL(ctx, u.String()); err != nil && ctx.Err() == nil {
				c.log.Error("update from command failed", "err", err)
			}
		})
	}
	return fmt.Errorf("unknown command %q", cmd.Name)
}

func (c *commander) queue(f func(context.Context)) error {
	select {
	case c.work <- f:
		return nil
	default:
		return errBusy
	}
}

// Run executes queued slow commands one at a time.
func (c *commander) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case f := <-c.work:
			f(ctx)
		}
	}
}
