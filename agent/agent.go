package agent

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"medagent/acquire"
	"medagent/config"
	"medagent/control"
	"medagent/handoff"
	"medagent/remote"
	"medagent/technician"
	"medagent/trust/audit"
	"medagent/update/engine"
	"medagent/uplink"
	"medagent/watchdog"
)

// Options configure an Agent.
type Options struct {
	Config config.Config
	Role   Role
	Logger *slog.Logger
	// Now is the wall clock; nil means time.Now.
	Now func() time.Time
	// Bench builds the simulators behind bus "sim" (a bench build's,
	// package sensors/simrig); nil refuses sensors on bus sim.
	Bench acquire.NewBench
}

// Agent is the running system: one struct that owns and wires every
// component, like tailscale's tsd.System.
type Agent struct {
	cfg  config.Config
	role Role
	log  *slog.Logger
	now  func() time.Time

	bench acquire.NewBench

	acq *acquireSide // nil in the uplink role
	up  *uplinkSide  // nil in the acquire role

	tech *technician.Service // the technician's control socket
	upd  *engine.Engine      // nil unless update.enabled, and only with acquisition
	rem  *remote.Service     // the hand-off's acquire side (commands, artifacts); nil without acquisition
	aud  *audit.Log          // the security audit trail; nil without acquisition or when it cannot open
	hand *handoff.Producer   // the hand-off's uplink side; nil without the uplink
	wd   *watchdog.Watchdog
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
	a := &Agent{cfg: o.Config, role: o.Role, log: o.Logger, now: o.Now, bench: o.Bench}
	if err := a.build(); err != nil {
		a.close()
		return nil, err
	}
	return a, nil
}

// build makes the components of the role and hands each the small ports
// it needs of the others.
func (a *Agent) build() error {
	var err error
	if a.role.acquires() {
		if a.acq, err = newAcquireSide(a.cfg, a.log, a.now, a.bench); err != nil {
			return err
		}
	}
	// What crosses from the uplink to acquire goes through the hand-off,
	// in role all too (one path): signed commands, downloaded artifacts.
	if a.cfg.HandoffUsed() && a.role.uplinks() {
		if a.hand, err = handoff.OpenProducer(handoffOptions(a.cfg, a.log, a.now)); err != nil {
			return fmt.Errorf("hand-off: %w", err)
		}
	}
	var cmds uplink.CommandFunc
	if a.cfg.Commands.Enabled && a.hand != nil {
		cmds = remote.Forward(a.hand, a.cfg.Device.ID, a.log, a.now)
	}
	if a.role.uplinks() {
		if a.up, err = newUplinkSide(a.cfg, a.log, a.now, cmds, a.hand); err != nil {
			return err
		}
	}
	if a.acq != nil {
		a.aud = newAudit(a.cfg, a.log, a.acq)
	}
	if a.cfg.Update.Enabled && a.acq != nil {
		// After a trial boot the broker counts as reachable when the
		// uplink says so in the hand-off (the remote service, built
		// below, reads it).
		brokerUp := func() error {
			if a.rem == nil {
				return errors.New("no hand-off to read the uplink's state from")
			}
			return a.rem.BrokerReachable()
		}
		// The keyring's update keys as they are at install time (the
		// remote service, built below, holds the keyring).
		ringKeys := func() []crypto.PublicKey {
			if a.rem == nil {
				return nil
			}
			return a.rem.UpdateKeys()
		}
		if a.upd, err = newUpdater(a.cfg, a.log, a.acq.acq, brokerUp, ringKeys, auditFunc(a.aud)); err != nil {
			return err
		}
	}
	if a.cfg.HandoffUsed() && a.acq != nil {
		if a.rem, err = newRemote(a.cfg, a.log, a.now, a.acq, a.upd, auditFunc(a.aud)); err != nil {
			return err
		}
	}
	wo := a.cfg.Watchdog
	if a.acq != nil {
		wo.Healthy = a.acq.acq.Alive
	}
	if a.wd, err = watchdog.New(wo, a.log); err != nil {
		return err
	}
	a.tech, err = technician.New(a.technicianPorts())
	return err
}

// technicianPorts hands the technician's socket the parts this process
// runs. The path comes from control.socket, else $MEDAGENT_SOCKET, else
// control.DefaultSocket; the uplink-only role serves NAME-uplink.sock
// beside it, so that with split roles the acquire process keeps the usual
// path (sensors, alarms, updates).
func (a *Agent) technicianPorts() technician.Ports {
	p := technician.Ports{Config: a.cfg, Role: string(a.role), Logger: a.log, Now: a.now,
		Socket: control.SocketPath(a.cfg.Control.Socket)}
	if a.role == RoleUplink {
		p.Socket = strings.TrimSuffix(p.Socket, ".sock") + "-uplink.sock"
	}
	if a.acq != nil {
		p.Sensors, p.Spool = a.acq.acq, a.acq.spool
	}
	if a.up != nil {
		p.Broker = a.up.up
		if a.up.fleet != nil {
			p.Fleet = a.up.fleet
		}
		if p.Spool == nil {
			p.Spool = a.up.spool
		}
	}
	if a.upd != nil {
		p.Slots, p.Installer = a.upd, a.upd
	}
	p.Security = a.security
	p.Audit = auditFunc(a.aud)
	if a.aud != nil {
		p.AuditTrail = a.aud
	}
	return p
}

// security lists what waits for the security state in this process: the
// uplink's certificate (its own, or as the uplink reports it in the
// hand-off) and the keyring and nonce store of signed commands.
func (a *Agent) security() []string {
	var out []string
	if a.rem != nil {
		out = a.rem.Security()
	}
	if a.up != nil && a.rem == nil {
		if w := a.up.up.Status().Waiting; w != "" {
			out = append(out, "uplink waiting: "+w)
		}
	}
	return out
}

// Run runs the agent's components until ctx ends or one fails.
func (a *Agent) Run(ctx context.Context) error {
	defer a.close()
	g, ctx := errgroup.WithContext(ctx)
	if a.acq != nil {
		g.Go(func() error { return a.acq.acq.Run(ctx) })
	}
	if a.up != nil {
		g.Go(func() error { return a.up.Run(ctx) })
	}
	g.Go(func() error { return a.tech.Run(ctx) })
	if a.upd != nil {
		g.Go(func() error { return a.upd.Run(ctx) })
	}
	if a.rem != nil {
		g.Go(func() error { return a.rem.Run(ctx) })
	}
	if a.hand != nil {
		g.Go(func() error { return a.hand.Run(ctx) })
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
	if a.aud != nil {
		a.aud.Close()
	}
	if a.acq != nil {
		a.acq.close()
	}
	if a.up != nil {
		a.up.close()
	}
}
