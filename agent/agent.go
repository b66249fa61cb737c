package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/sync/errgroup"

	"medagent/agent/watchdog"
	"medagent/config"
	"medagent/uplink"
)

// Options configure an Agent.
type Options struct {
	Config config.Config
	Role   Role
	Logger *slog.Logger
	// Now is the wall clock; nil means time.Now.
	Now func() time.Time
}

// Agent is the running system: one struct that owns and wires every
// component, like tailscale's tsd.System.
type Agent struct {
	cfg  config.Config
	role Role
	log  *slog.Logger
	now  func() time.Time

	acq *acquisition // nil in the uplink role
	up  *uplinkSide  // nil in the acquire role

	control *controlSide // the technician's control socket
	upd     *updater     // nil unless update.enabled, and only with acquisition
	cmd     *commander   // nil unless commands.enabled, and only with the uplink
	wd      *watchdog.Watchdog
}

// New checks everything that can be checked before running (configuration,
// spool directory, keys and certificates) and fails with a clear error.
func New(o Options) (*Agent, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	a := &Agent{cfg: o.Config, role: o.Role, log: o.Logger, now: o.Now}
	var err error
	if a.role.acquires() {
		if a.acq, err = newAcquisition(a.cfg, a.log, a.now); err != nil {
			return nil, err
		}
	}
	var cmds uplink.CommandFunc
	if a.cfg.Commands.Enabled && a.role.uplinks() {
		if a.cmd, err = newCommander(a); err != nil {
			a.close()
			return nil, err
		}
		cmds = a.cmd.handle
	}
	if a.role.uplinks() {
		if a.up, err = newUplinkSide(a.cfg, a.log, cmds); err != nil {
			a.close()
			return nil, err
		}
	}
	if a.cfg.Update.Enabled && a.acq != nil {
		if a.upd, err = a.newUpdaterFor(); err != nil {
			a.close()
			return nil, err
		}
	}
	wo := a.cfg.Watchdog
	if a.acq != nil {
		wo.Healthy = a.acq.edge.Alive
	}
	if a.wd, err = watchdog.New(wo, a.log); err != nil {
		a.close()
		return nil, err
	}
	if a.control, err = newControl(a); err != nil {
		a.close()
		return nil, err
	}
	return a, nil
}

// Run runs the agent's components until ctx ends or one fails.
func (a *Agent) Run(ctx context.Context) error {
	defer a.close()
	g, ctx := errgroup.WithContext(ctx)
	if a.acq != nil {
		a.acq.start(ctx, g)
	}
	if a.up != nil {
		g.Go(func() error { return a.up.Run(ctx) })
	}
	g.Go(func() error { return a.control.Run(ctx) })
	if a.upd != nil {
		g.Go(func() error { return a.upd.Run(ctx) })
	}
	if a.cmd != nil {
		g.Go(func() error { return a.cmd.Run(ctx) })
	}
	g.Go(func() error { return a.wd.Run(ctx) })
	a.log.Info("agent running", "role", string(a.role), "device", a.cfg.Device.ID)
	err := g.Wait()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	return nil
}

func (a *Agent) close() {
	if a.acq != nil {
		a.acq.close()
	}
	if a.up != nil {
		a.up.close()
	}
}
