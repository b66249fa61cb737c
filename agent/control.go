package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"medagent/control"
	"medagent/edge/alarm"
	"medagent/spool"
	"medagent/telemetry"
	"medagent/update/bootenv"
	"medagent/update/engine"
	"medagent/version"
)

// controlSide serves the technician's control socket (package control).
type controlSide struct {
	a       *Agent
	srv     *control.Server
	started time.Time

	installs sync.WaitGroup // background installs started by technicians
}

// newControl builds the control socket server. The path comes from
// control.socket, else $MEDAGENT_SOCKET, else control.DefaultSocket; the
// uplink-only role serves NAME-uplink.sock beside it.
// Logs are served when the agent's logger's handler is a *control.Ring.
func newControl(a *Agent) (*controlSide, error) {
	c := &controlSide{a: a, started: a.now()}
	ring, _ := a.log.Handler().(*control.Ring)
	path := control.SocketPath(a.cfg.Control.Socket)
	if a.role == RoleUplink {
		// With split roles the acquire process serves the usual path
		// (sensors, alarms, updates) and the uplink process this one.
		path = strings.TrimSuffix(path, ".sock") + "-uplink.sock"
	}
	p := control.Provider{
		Status: c.status, Sensors: c.sensors, Alarms: c.alarms, Ack: c.ack,
		Spool: c.spool, Certs: c.certs, Diag: c.diag, Selftest: c.selftest,
	}
	if a.upd != nil {
		p.Update = c.update
	}
	srv, err := control.NewServer(control.Options{Path: path, Ring: ring, Logger: a.log, Provider: p})
	if err != nil {
		return nil, err
	}
	c.srv = srv
	return c, nil
}

// Run serves until ctx ends. A socket that cannot be created is logged and
// the agent keeps running: the technician shell is never a reason to stop
// monitoring.
func (c *controlSide) Run(ctx context.Context) error {
	defer c.installs.Wait()
	if err := c.srv.Run(ctx); err != nil {
		c.a.log.Error("control socket unavailable; technician commands will report the agent as not running", "err", err)
		<-ctx.Done()
	}
	return nil
}

func (c *controlSide) status(ctx context.Context) control.Status {
	a := c.a
	now := a.now()
	s := control.Status{
		Version: version.Version, Commit: version.Commit, DeviceID: a.cfg.Device.ID, Role: string(a.role),
		StartedAt: c.started.UTC(), UptimeSeconds: now.Sub(c.started).Seconds(),
		Boot: readBoot(a.cfg.Update.FWEnvConfig), Broker: control.Broker{URL: a.cfg.MQTT.Broker},
		Sensors: c.sensors(ctx), Alarms: c.alarms(ctx),
	}
	if a.up != nil {
		u := a.up.up.Status()
		s.Broker.Enabled, s.Broker.Connected = true, u.Connected
		s.Broker.Published, s.Broker.Acked, s.Broker.InFlight = u.Published, u.Acked, u.InFlight
		if u.LastError != nil {
			s.Broker.LastError = u.LastError.Error()
		}
	}
	if st, err := c.spool(ctx); err == nil || st.Classes != nil {
		for _, cl := range st.Classes {
			s.Spool.Pending += cl.Pending
			s.Spool.PendingBytes += cl.PendingBytes
			s.Spool.Evicted += cl.Evicted
			if cl.Oldest != nil {
				s.Spool.OldestAgeSeconds = max(s.Spool.OldestAgeSeconds, now.Sub(*cl.Oldest).Seconds())
			}
		}
		s.Spool.DiskBytes = st.DiskBytes
	}
	certs := c.certs(ctx)
	s.Certificate, s.CertError = certs.Device, certs.Error
	return s
}

// readBoot reads the A/B state from the U-Boot environment that
// update.fw_env_config locates.
func readBoot(fwEnvConfig string) control.Boot {
	if fwEnvConfig == "" {
		return control.Boot{State: "unknown", Note: "update.fw_env_config is not set"}
	}
	if _, err := os.Stat(fwEnvConfig); err != nil {
		return control.Boot{State: "unknown", Note: "no " + fwEnvConfig}
	}
	u, err := bootenv.OpenUBoot(fwEnvConfig)
	var env map[string]string
	if err == nil {
		env, err = u.ReadEnv("mender_boot_part", "upgrade_available")
	}
	if err != nil {
		return control.Boot{State: "unknown", Note: err.Error()}
	}
	b := control.Boot{ActiveSlot: env["mender_boot_part"], State: "committed"}
	if env["upgrade_available"] == "1" {
		b.State = "trial"
	}
	return b
}

// sensors reports every configured sensor with its latest window.
func (c *controlSide) sensors(ctx context.Context) []control.Sensor {
	a := c.a
	var latest map[string]telemetry.Pack
	var active []alarm.Alarm
	if a.acq != nil {
		latest, active = a.acq.edge.Latest(), a.acq.edge.Alarms()
	}
	out := make([]control.Sensor, 0, len(a.cfg.Sensors))
	for _, sc := range a.cfg.Sensors {
		s := control.Sensor{Name: sc.Name, Driver: sc.Driver, Rate: sc.Rate, State: "remote", Values: []control.Value{}}
		if a.acq == nil {
			out = append(out, s)
			continue
		}
		p, ok := latest[sc.Name]
		s.State = "starting"
		if ok {
			s.Updated = p.Time.UTC()
			s.Values = values(p)
			s.State = "no_data"
			for _, v := range s.Values {
				if v.Value != nil {
					s.State = "ok"
					break
				}
			}
		}
		for _, al := range active {
			if al.Kind == alarm.Technical && (al.Source == sc.Name || strings.HasPrefix(al.Source, sc.Name+".")) {
				s.State = "alarm"
			}
		}
		out = append(out, s)
	}
	return out
}

// values keeps a pack's derived values: no window statistics (name/min…)
// and no waveform samples (repeated names).
func values(p telemetry.Pack) []control.Value {
	out := []control.Value{}
	seen := map[string]bool{}
	for _, r := range p.Records {
		if strings.Contains(r.Name, "/") || seen[r.Name] {
			continue
		}
		seen[r.Name] = true
		v := control.Value{Name: r.Name, Unit: r.Unit, Value: r.Value, Text: r.String}
		if r.Bool != nil {
			v.Text = fmt.Sprint(*r.Bool)
		}
		out = append(out, v)
	}
	return out
}

func (c *controlSide) alarms(ctx context.Context) []control.Alarm {
	out := []control.Alarm{}
	if c.a.acq == nil {
		return out
	}
	for _, al := range c.a.acq.edge.Alarms() {
		out = append(out, control.Alarm{
			ID: uint64(al.ID), Kind: al.Kind.String(), Vital: string(al.Vital), Source: al.Source,
			Condition: string(al.Condition), Priority: al.Priority.String(), Value: al.Value, Limit: al.Limit,
			Since: al.Since.UTC(), Present: al.Present, Acknowledged: al.Acknowledged,
		})
	}
	return out
}

func (c *controlSide) ack(ctx context.Context, id uint64) error {
	if c.a.acq == nil {
		return errors.New("agent: alarms are handled by the acquire process")
	}
	if !slices.ContainsFunc(c.a.acq.edge.Alarms(), func(al alarm.Alarm) bool { return uint64(al.ID) == id }) {
		return fmt.Errorf("agent: alarm %d: %w", id, control.ErrNoSuchAlarm)
	}
	return c.a.acq.edge.Ack(ctx, alarm.ID(id))
}

func (c *controlSide) spool(ctx context.Context) (control.SpoolStats, error) {
	var s spool.Stats
	switch {
	case c.a.acq != nil:
		s = c.a.acq.spool.Stats()
	case c.a.up != nil:
		s = c.a.up.spool.Stats()
	default:
		return control.SpoolStats{}, errors.New("agent: no spool open")
	}
	out := control.SpoolStats{Classes: map[string]control.SpoolClass{}, DiskBytes: s.DiskBytes, Encrypted: s.Encrypted,
		CorruptFrames: s.CorruptFrames, DamagedSpans: s.DamagedSpans, TornTails: s.TornTails}
	for cl, cs := range s.Classes {
		j := control.SpoolClass{Pending: cs.Pending, PendingBytes: cs.PendingBytes, OldestApprox: cs.OldestApprox,
			Evicted: cs.Evicted, Segments: cs.Segments, Bytes: cs.Bytes}
		if !cs.Oldest.IsZero() {
			t := cs.Oldest.UTC()
			j.Oldest = &t
		}
		out.Classes[cl.String()] = j
	}
	return out, nil
}

func (c *controlSide) certs(ctx context.Context) control.Certs {
	return control.LoadCerts(c.a.cfg.MQTT.CertFile, c.a.cfg.MQTT.CAFile, c.a.now())
}

func (c *controlSide) diag(ctx context.Context) control.Diag {
	var d control.Diag
	y, err := control.RedactYAML(c.a.cfg)
	if err != nil {
		y = []byte("# " + err.Error() + "\n")
	}
	d.ConfigYAML = string(y)
	fwEnvConfig := c.a.cfg.Update.FWEnvConfig
	if fwEnvConfig == "" {
		d.BootNote = "no boot environment: update.fw_env_config is not set"
		return d
	}
	if _, err := os.Stat(fwEnvConfig); err != nil {
		d.BootNote = "no boot environment: " + fwEnvConfig + " absent"
		return d
	}
	u, err := bootenv.OpenUBoot(fwEnvConfig)
	if err == nil {
		d.BootEnv, err = u.ReadEnv()
	}
	if err != nil {
		d.BootNote = err.Error()
	}
	return d
}

// selftest checks every configured sensor, the spool and the broker.
func (c *controlSide) selftest(ctx context.Context) control.Selftest {
	t := control.Selftest{OK: true}
	add := func(name string, ok bool, detail string) {
		t.Checks = append(t.Checks, control.Check{Name: name, OK: ok, Detail: detail})
		t.OK = t.OK && ok
	}
	for _, s := range c.sensors(ctx) {
		switch s.State {
		case "ok":
			add("sensor "+s.Name, true, "valid data in the last window")
		case "remote":
			add("sensor "+s.Name, true, "sampled by the acquire process (not checked here)")
		default:
			add("sensor "+s.Name, false, "state "+s.State)
		}
	}
	if st, err := c.spool(ctx); err != nil {
		add("spool", false, err.Error())
	} else if st.DamagedSpans > 0 {
		add("spool", false, fmt.Sprintf("%d damaged spans pending", st.DamagedSpans))
	} else {
		add("spool", true, fmt.Sprintf("%d bytes on disk of %d", st.DiskBytes, c.a.cfg.Spool.MaxBytes))
	}
	switch {
	case c.a.up == nil:
		add("broker", true, "published by the uplink process (not checked here)")
	case c.a.up.up.Status().Connected:
		add("broker", true, "connected to "+c.a.cfg.MQTT.Broker)
	default:
		detail := "not connected to " + c.a.cfg.MQTT.Broker
		if e := c.a.up.up.Status().LastError; e != nil {
			detail += ": " + e.Error()
		}
		add("broker", false, detail)
	}
	return t
}

// installAnswerWait is how long an install request waits before answering
// with the engine's status: long enough to report a refused artifact
// (signature, device type), short enough for a shell. The install goes on
// in the agent; the reboot may wait for the clinical-use lock.
const installAnswerWait = 3 * time.Second

// update runs a technician's update operation (control.CmdUpdate) and
// returns the engine's status after it. ctx is the agent's, so an install
// goes on when the technician's session drops.
func (c *controlSide) update(ctx context.Context, op, arg string) (any, error) {
	e := c.a.upd.e
	var err error
	switch op {
	case "status":
	case "commit":
		err = e.Commit(ctx)
	case "rollback":
		err = e.Rollback(ctx)
	case "reboot":
		// The technician's decision to reboot now although a patient is
		// monitored or the maintenance window is closed.
		e.ForceReboot()
	case "install":
		return c.install(ctx, arg)
	default:
		return nil, fmt.Errorf("agent: unknown update operation %q", op)
	}
	if err != nil {
		return nil, err
	}
	return e.Status(), nil
}

// install starts an install in the background (owned by controlSide.Run)
// and answers when it ended or after installAnswerWait.
func (c *controlSide) install(ctx context.Context, arg string) (any, error) {
	e := c.a.upd.e
	var src io.ReadCloser
	if strings.HasPrefix(arg, "https://") {
		src = engine.NewDownload(ctx, nil, arg)
	} else {
		f, err := os.Open(arg)
		if err != nil {
			return nil, fmt.Errorf("agent: update install: %w", err)
		}
		src = f
	}
	done := make(chan error, 1)
	c.installs.Add(1)
	go func() {
		defer c.installs.Done()
		defer src.Close()
		err := e.Install(ctx, src)
		if err != nil && !errors.Is(err, engine.ErrBusy) && ctx.Err() == nil {
			c.a.log.Error("update install failed", "artifact", arg, "err", err)
		}
		done <- err
	}()
	t := time.NewTimer(installAnswerWait)
	defer t.Stop()
	select {
	case err := <-done:
		if err != nil {
			return nil, err
		}
	case <-t.C:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return e.Status(), nil
}
