package technician

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"medagent/config"
	"medagent/control"
	"medagent/edge/alarm"
	"medagent/mender"
	"medagent/sensors"
	"medagent/spool"
	"medagent/telemetry"
	"medagent/trust/audit"
	"medagent/update/bootenv"
	"medagent/update/engine"
	"medagent/update/source"
	"medagent/uplink"
	"medagent/version"
)

// Service answers the technician's control socket (package control).
type Service struct {
	Ports
	srv     *control.Server
	started time.Time

	installs sync.WaitGroup // background installs started by technicians
}

// Ports are what the technician's socket reads and asks of the agent's
// parts. A nil port is a part this process does not run.
type Ports struct {
	Config config.Config
	Role   string // the process's role, as reported by status
	// Socket is the control socket's path.
	Socket string
	// Logger's handler, when it is a *control.Ring, serves `medagent logs`.
	Logger *slog.Logger
	Now    func() time.Time

	Sensors SensorDesk // acquisition
	Spool   SpoolView  // the spool writer (acquire) or reader (uplink)
	Broker  BrokerView // the uplink
	Fleet   FleetView  // the Mender client; nil when not configured
	// Security lists the security states that keep part of the agent
	// waiting; nil when this process has none to report.
	Security  func() []string
	Slots     SlotOps   // the update engine
	Installer Installer // the update engine
	// Audit, if set, records the technician's actions (with the caller's
	// uid) and refused callers in the audit trail (trust/audit);
	// AuditTrail serves "medagent logs --audit".
	Audit      func(kind string, fields map[string]string)
	AuditTrail AuditTrail
}

// AuditTrail checks the audit trail and returns it.
type AuditTrail interface {
	Verify() audit.Report
}

// auditEntries is how many of the newest entries "logs --audit" shows.
const auditEntries = 500

func (c *Service) audit(ctx context.Context) (control.Audit, error) {
	r := c.AuditTrail.Verify()
	out := control.Audit{Intact: r.OK(), First: r.First, Last: r.Last, Entries: []control.AuditEntry{}}
	for _, p := range r.Problems {
		out.Problems = append(out.Problems, p.String())
	}
	for _, e := range r.Entries[max(0, len(r.Entries)-auditEntries):] {
		out.Entries = append(out.Entries, control.AuditEntry{Seq: e.Seq, Time: e.Time, Kind: e.Kind, Fields: e.Fields})
	}
	return out, nil
}

// SensorDesk is acquisition as the technician sees it.
type SensorDesk interface {
	Latest() map[string]telemetry.Pack
	Alarms() []alarm.Alarm
	Ack(ctx context.Context, id alarm.ID) error
}

// SpoolView reads the spool's statistics.
type SpoolView interface {
	Stats() spool.Stats
}

// FleetView is the Mender client's state.
type FleetView interface {
	Status() mender.Status
}

// BrokerView is the uplink's connection state.
type BrokerView interface {
	Status() uplink.Status
}

// SlotOps are the technician's A/B decisions.
type SlotOps interface {
	Commit(ctx context.Context) error
	Rollback(ctx context.Context) error
	ForceReboot()
}

// Installer installs an artifact and reports the engine's state.
type Installer interface {
	Install(ctx context.Context, src io.Reader) error
	InstallURL(ctx context.Context, url string) error
	Status() engine.Status
}

// New builds the control socket server; it listens in Run.
func New(p Ports) (*Service, error) {
	if p.Logger == nil {
		p.Logger = slog.Default()
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	c := &Service{Ports: p, started: p.Now()}
	ring, _ := p.Logger.Handler().(*control.Ring)
	pr := control.Provider{
		Status: c.status, Sensors: c.sensorList, Alarms: c.alarms, Ack: c.ack,
		Spool: c.spoolStats, Certs: c.certs, Diag: c.diag, Selftest: c.selftest,
	}
	if p.Installer != nil {
		pr.Update = c.update
	}
	if p.AuditTrail != nil {
		pr.Audit = c.audit
	}
	co := control.Options{Path: p.Socket, Ring: ring, Logger: p.Logger, Provider: pr}
	if p.Audit != nil {
		co.Audit = func(peer control.Peer, req control.Request, resp control.Response) {
			f := map[string]string{"uid": strconv.Itoa(peer.UID), "pid": strconv.Itoa(peer.PID), "cmd": req.Cmd}
			if req.Op != "" {
				f["op"] = req.Op
			}
			if req.Arg != "" {
				f["arg"] = req.Arg
			}
			if req.ID != 0 {
				f["id"] = strconv.FormatUint(req.ID, 10)
			}
			kind := "technician.action"
			if !resp.OK {
				kind = "technician.refused"
				f["reason"] = resp.Error
			}
			p.Audit(kind, f)
		}
	}
	srv, err := control.NewServer(co)
	if err != nil {
		return nil, err
	}
	c.srv = srv
	return c, nil
}

// Run serves until ctx ends. A socket that cannot be created is logged and
// the agent keeps running: the technician shell is never a reason to stop
// monitoring.
func (c *Service) Run(ctx context.Context) error {
	defer c.installs.Wait()
	if err := c.srv.Run(ctx); err != nil {
		c.Logger.Error("control socket unavailable; technician commands will report the agent as not running", "err", err)
		<-ctx.Done()
	}
	return nil
}

func (c *Service) status(ctx context.Context) control.Status {
	now := c.Now()
	s := control.Status{
		Version: version.Version, Commit: version.Commit, DeviceID: c.Config.Device.ID, Role: c.Role,
		StartedAt: c.started.UTC(), UptimeSeconds: now.Sub(c.started).Seconds(),
		Boot: readBoot(c.Config.Update.FWEnvConfig), Broker: control.Broker{URL: c.Config.MQTT.Broker},
		Sensors: c.sensorList(ctx), Alarms: c.alarms(ctx),
	}
	if c.Security != nil {
		s.Security = c.Security()
	}
	if c.Fleet != nil {
		f := c.Fleet.Status()
		s.Fleet = &control.Fleet{Server: c.Config.Mender.ServerURL, Auth: f.Auth, AuthSince: f.AuthSince, AuthTries: f.AuthTries,
			NextTry: f.NextTry, LastError: f.LastError, Deployment: f.Deployment, DeployState: f.DeployState,
			Artifact: f.Artifact, Downloaded: f.Downloaded}
	}
	if c.Broker != nil {
		u := c.Broker.Status()
		s.Broker.Enabled, s.Broker.Connected = true, u.Connected
		if u.Broker != "" {
			s.Broker.URL = u.Broker // the node of a cluster in use, or last tried
		}
		s.Broker.Published, s.Broker.Acked, s.Broker.InFlight = u.Published, u.Acked, u.InFlight
		if u.LastError != nil {
			s.Broker.LastError = u.LastError.Error()
		}
	}
	if st, err := c.spoolStats(ctx); err == nil || st.Classes != nil {
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
func (c *Service) sensorList(ctx context.Context) []control.Sensor {
	var latest map[string]telemetry.Pack
	var active []alarm.Alarm
	if c.Sensors != nil {
		latest, active = c.Sensors.Latest(), c.Sensors.Alarms()
	}
	out := make([]control.Sensor, 0, len(c.Config.Sensors))
	for _, sc := range c.Config.Sensors {
		s := control.Sensor{Name: sc.Name, Driver: sc.Driver, Rate: sc.Rate, State: "remote", Values: []control.Value{},
			Simulated: sensors.IsSim(sc.Bus)}
		if c.Sensors == nil {
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

func (c *Service) alarms(ctx context.Context) []control.Alarm {
	out := []control.Alarm{}
	if c.Sensors == nil {
		return out
	}
	for _, al := range c.Sensors.Alarms() {
		out = append(out, control.Alarm{
			ID: uint64(al.ID), Kind: al.Kind.String(), Vital: string(al.Vital), Source: al.Source,
			Condition: string(al.Condition), Priority: al.Priority.String(), Value: al.Value, Limit: al.Limit,
			Since: al.Since.UTC(), Present: al.Present, Acknowledged: al.Acknowledged,
		})
	}
	return out
}

func (c *Service) ack(ctx context.Context, id uint64) error {
	if c.Sensors == nil {
		return errors.New("technician: alarms are handled by the acquire process")
	}
	if !slices.ContainsFunc(c.Sensors.Alarms(), func(al alarm.Alarm) bool { return uint64(al.ID) == id }) {
		return fmt.Errorf("technician: alarm %d: %w", id, control.ErrNoSuchAlarm)
	}
	return c.Sensors.Ack(ctx, alarm.ID(id))
}

func (c *Service) spoolStats(ctx context.Context) (control.SpoolStats, error) {
	if c.Spool == nil {
		return control.SpoolStats{}, errors.New("technician: no spool open")
	}
	s := c.Spool.Stats()
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

func (c *Service) certs(ctx context.Context) control.Certs {
	return control.LoadCerts(c.Config.MQTT.CertFile, c.Config.MQTT.CAFile, c.Now())
}

func (c *Service) diag(ctx context.Context) control.Diag {
	var d control.Diag
	y, err := control.RedactYAML(c.Config)
	if err != nil {
		y = []byte("# " + err.Error() + "\n")
	}
	d.ConfigYAML = string(y)
	fwEnvConfig := c.Config.Update.FWEnvConfig
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
func (c *Service) selftest(ctx context.Context) control.Selftest {
	t := control.Selftest{OK: true}
	add := func(name string, ok bool, detail string) {
		t.Checks = append(t.Checks, control.Check{Name: name, OK: ok, Detail: detail})
		t.OK = t.OK && ok
	}
	for _, s := range c.sensorList(ctx) {
		switch s.State {
		case "ok":
			add("sensor "+s.Name, true, "valid data in the last window")
		case "remote":
			add("sensor "+s.Name, true, "sampled by the acquire process (not checked here)")
		default:
			add("sensor "+s.Name, false, "state "+s.State)
		}
	}
	if st, err := c.spoolStats(ctx); err != nil {
		add("spool", false, err.Error())
	} else if st.DamagedSpans > 0 {
		add("spool", false, fmt.Sprintf("%d damaged spans pending", st.DamagedSpans))
	} else {
		add("spool", true, fmt.Sprintf("%d bytes on disk of %d", st.DiskBytes, c.Config.Spool.MaxBytes))
	}
	switch {
	case c.Broker == nil:
		add("broker", true, "published by the uplink process (not checked here)")
	case c.Broker.Status().Connected:
		add("broker", true, "connected to "+c.Broker.Status().Broker)
	default:
		detail := "not connected to " + strings.TrimSpace(strings.Join(append([]string{c.Config.MQTT.Broker}, c.Config.MQTT.Brokers...), " "))
		if e := c.Broker.Status().LastError; e != nil {
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
func (c *Service) update(ctx context.Context, op, arg string) (any, error) {
	var err error
	switch op {
	case "status":
	case "commit":
		err = c.Slots.Commit(ctx)
	case "rollback":
		err = c.Slots.Rollback(ctx)
	case "reboot":
		// The technician's decision to reboot now although a patient is
		// monitored or the maintenance window is closed.
		c.Slots.ForceReboot()
	case "install":
		return c.install(ctx, arg)
	default:
		return nil, fmt.Errorf("technician: unknown update operation %q", op)
	}
	if err != nil {
		return nil, err
	}
	return c.Installer.Status(), nil
}

// install starts an install in the background (owned by controlSide.Run)
// and answers when it ended or after installAnswerWait.
func (c *Service) install(ctx context.Context, arg string) (any, error) {
	// The agent opens the artifact with its own rights on the caller's
	// word: a regular file inside update.install_dir only, opened without
	// blocking (update/source); https with the update server's anchors.
	run := func() error { return c.Installer.InstallURL(ctx, arg) }
	if !strings.HasPrefix(arg, "https://") {
		f, err := source.OpenFile(c.Config.Update.InstallDir, arg)
		if err != nil {
			return nil, fmt.Errorf("technician: update install: %w", err)
		}
		run = func() error {
			defer f.Close()
			return c.Installer.Install(ctx, f)
		}
	}
	done := make(chan error, 1)
	c.installs.Add(1)
	go func() {
		defer c.installs.Done()
		err := run()
		if err != nil && !errors.Is(err, engine.ErrBusy) && ctx.Err() == nil {
			c.Logger.Error("update install failed", "artifact", arg, "err", err)
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
	return c.Installer.Status(), nil
}
