package engine

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"medagent/update/bootenv"
	"medagent/update/slot"
)

// Header is what the engine needs from a verified artifact header.
type Header struct {
	Name     string            // artifact_name
	Type     string            // payload type, "rootfs-image" for A/B updates
	Provides map[string]string // provides of the artifact (stored on commit)
	// ClearsProvides are patterns ("rootfs-image.*") of installed provides
	// this artifact replaces; nil means all of them.
	ClearsProvides []string
	// KeyID names the key that verified the artifact (audit trail).
	KeyID string
	// PayloadSize is the payload's size as the signed header declares it
	// (its chunk list); 0 when it declares none.
	PayloadSize int64
	// Scripts are the names of the state scripts the artifact carries
	// (scripts/ in its header). The engine refuses such artifacts: see
	// ErrArtifactScripts.
	Scripts []string
}

// Payload is one payload file of an artifact. R must fail at its EOF when
// the content does not match the artifact's signed checksum.
type Payload struct {
	Name   string
	Size   int64
	SHA256 []byte // signed checksum from the manifest, when known
	// Chunked is true when R verifies every chunk against a signed list
	// before handing out its bytes (nothing unverified reaches the slot).
	Chunked bool
	// Compression of the payload ("none", "gzip", "xz", "zstd"): xz and
	// zstd decoders hold a window of up to update.max_window, so the slot
	// writer keeps fewer buffers in flight for them (see preArm).
	Compression string
	R           io.Reader
}

// Artifact is an opened artifact whose header (and signature) the opener
// verified. Next returns io.EOF after the last payload.
type Artifact interface {
	Header() Header
	Next() (Payload, error)
}

// OpenRequest is what the engine tells an opener about the install.
type OpenRequest struct {
	// Installed holds the provides of the running software, for the
	// artifact's depends checks.
	Installed map[string]string
	// MaxPayloadSize is the inactive slot's size: no payload file (and no
	// decompressed data member) may be larger.
	MaxPayloadSize int64
}

// OpenFunc opens and verifies an artifact.
type OpenFunc func(r io.Reader, req OpenRequest) (Artifact, error)

// Check is one health check run on the new slot before commit.
type Check struct {
	Name    string
	Kind    string        // CheckSensorsUp, CheckBrokerReachable or CheckCommand
	Timeout time.Duration // 0 means DefaultCheckTimeout
	// Func is called for hook kinds; it must honour ctx.
	Func func(ctx context.Context) error
	// Command is run for CheckCommand; exit status 0 is healthy.
	Command []string
}

// Check kinds.
const (
	CheckSensorsUp       = "sensors-up"
	CheckBrokerReachable = "broker-reachable"
	CheckCommand         = "command"
)

// SensorsUp returns a check that calls the agent's sensor hook.
func SensorsUp(fn func(ctx context.Context) error, timeout time.Duration) Check {
	return Check{Name: "sensors up", Kind: CheckSensorsUp, Func: fn, Timeout: timeout}
}

// BrokerReachable returns a check that calls the agent's broker hook.
func BrokerReachable(fn func(ctx context.Context) error, timeout time.Duration) Check {
	return Check{Name: "broker reachable", Kind: CheckBrokerReachable, Func: fn, Timeout: timeout}
}

// CommandCheck returns a check that runs an integrator command.
func CommandCheck(name string, timeout time.Duration, argv ...string) Check {
	return Check{Name: name, Kind: CheckCommand, Command: argv, Timeout: timeout}
}

// Window is a daily maintenance window in the clock's location, from Start
// to End after midnight; End < Start wraps past midnight.
type Window struct {
	Start time.Duration `yaml:"start"`
	End   time.Duration `yaml:"end"`
}

// Contains reports whether t falls inside the window.
func (w Window) Contains(t time.Time) bool {
	y, m, d := t.Date()
	since := t.Sub(time.Date(y, m, d, 0, 0, 0, 0, t.Location()))
	if w.Start <= w.End {
		return since >= w.Start && since < w.End
	}
	return since >= w.Start || since < w.End
}

// Defaults.
const (
	DefaultMaxStateEntries     = 3
	DefaultCheckTimeout        = time.Minute
	DefaultScriptTimeout       = time.Hour // Mender's StateScriptTimeoutSeconds
	DefaultScriptRetryInterval = time.Minute
	DefaultScriptRetryTimeout  = 30 * time.Minute
	DefaultPollInterval        = 10 * time.Second
	// DefaultRebootTimeout is how long a reboot request may take to end
	// the process (an orderly systemd shutdown of a few services, each
	// with a stop timeout, takes well under it).
	DefaultRebootTimeout = 5 * time.Minute
	// DefaultRebootRetries is how often a reboot that did not happen is
	// requested again before the engine gives up.
	DefaultRebootRetries = 2
)

// Options configure an Engine.
type Options struct {
	Journal string // journal file path (required), in a directory only this user may write
	// JournalKey authenticates the journal (HMAC-SHA256, at least 32
	// bytes; the agent derives it from its TPM-sealed device key).
	// Required: a journal that fails its check is never acted on.
	JournalKey []byte
	Env        bootenv.ReadWriter // boot environment (required)
	Slots      slot.Config        // the two slots (required)
	// Floor is the anti-rollback version floor (required; trust/floor:
	// TPM NV or an authenticated file). Artifacts below it are refused.
	Floor FloorStore
	// Counter binds the journal to a monotonic counter (a TPM NV counter,
	// OpenJournalCounter): a validly authenticated but older journal put
	// back is refused like a forged one. nil (no TPM): not covered.
	Counter JournalCounter
	// Keys, DeviceType, MaxWindow and RequireChunks verify artifacts with
	// update/artifact when Open is nil (see Verification). Without keys
	// every install is refused (fail closed).
	Keys          []crypto.PublicKey
	DeviceType    string
	MaxWindow     int64
	RequireChunks bool
	Open          OpenFunc // artifact opener that verifies; nil: Opener(Verification{...})
	ScriptsDir    string   // state scripts; "" means none
	// DownloadDir holds the artifact downloaded by InstallURL (on the data
	// partition; "" streams it instead); HTTPClient fetches it (with the
	// update server's trust anchors, update/source; nil refuses https);
	// CheckpointEvery is the download checkpoint
	// interval (0: 4 MiB).
	DownloadDir     string
	HTTPClient      *http.Client
	CheckpointEvery int64
	Health          []Check
	// Reboot reboots the device (required). When it returns nil the engine
	// considers the reboot under way, for RebootTimeout: a process still
	// alive then asks again, up to RebootRetries times, then gives up
	// (AwaitReboot).
	Reboot func(ctx context.Context) error
	// RebootTimeout is how long after a reboot request the engine waits
	// for the reboot to end the process; 0 means DefaultRebootTimeout.
	RebootTimeout time.Duration
	// RebootRetries is how often a reboot that did not happen is requested
	// again before the update fails with the boot environment restored;
	// 0 means DefaultRebootRetries, negative none.
	RebootRetries int
	// Monitoring reports whether a patient is being monitored (valid
	// physiological data recently or an active alarm). nil means never.
	Monitoring func() bool
	// Window, if set, allows reboots only inside it (ForceReboot overrides).
	Window *Window
	Logger *slog.Logger
	// Audit, if set, records security events in the audit trail
	// (trust/audit): update.started, update.refused, update.committed,
	// update.rolled_back, update.floor_raised, update.journal_rejected.
	Audit func(kind string, fields map[string]string)
	// Progress, if set, is called while the payload is written.
	Progress func(written, total int64)

	// InstallGCPercent is the garbage collector's target (GOGC) while a
	// payload is written, see limitMemory: 0 means
	// DefaultInstallGCPercent, negative leaves it alone.
	InstallGCPercent int

	MaxStateEntries     int           // loop breaker; 0 means DefaultMaxStateEntries
	FlushEvery          int64         // slot fsync interval; 0 means slot.DefaultFlushEvery
	ScriptTimeout       time.Duration // 0 means DefaultScriptTimeout
	ScriptRetryInterval time.Duration // 0 means DefaultScriptRetryInterval
	ScriptRetryTimeout  time.Duration // 0 means DefaultScriptRetryTimeout
	PollInterval        time.Duration // clinical lock polling; 0 means DefaultPollInterval
	Now                 func() time.Time
}

func (o *Options) ensureDefaults() error {
	var missing []string
	if o.Journal == "" {
		missing = append(missing, "Journal")
	}
	if len(o.JournalKey) == 0 {
		missing = append(missing, "JournalKey")
	}
	if o.Env == nil {
		missing = append(missing, "Env")
	}
	if o.Floor == nil {
		missing = append(missing, "Floor")
	}
	if o.Open == nil && o.DeviceType == "" {
		missing = append(missing, "DeviceType (or Open)")
	}
	if o.Reboot == nil {
		missing = append(missing, "Reboot")
	}
	if len(missing) > 0 {
		return fmt.Errorf("engine: options missing %v", missing)
	}
	if err := o.Slots.Validate(); err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	for _, c := range o.Health {
		if c.Func == nil && len(c.Command) == 0 {
			return fmt.Errorf("engine: health check %q has neither a hook nor a command", c.Name)
		}
	}
	if o.Open == nil {
		o.Open = Opener(Verification{Keys: o.Keys, DeviceType: o.DeviceType, MaxWindow: o.MaxWindow, RequireChunks: o.RequireChunks})
	}
	if o.Monitoring == nil {
		o.Monitoring = func() bool { return false }
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.InstallGCPercent == 0 {
		o.InstallGCPercent = DefaultInstallGCPercent
	}
	if o.MaxStateEntries <= 0 {
		o.MaxStateEntries = DefaultMaxStateEntries
	}
	if o.ScriptTimeout <= 0 {
		o.ScriptTimeout = DefaultScriptTimeout
	}
	if o.ScriptRetryInterval <= 0 {
		o.ScriptRetryInterval = DefaultScriptRetryInterval
	}
	if o.ScriptRetryTimeout <= 0 {
		o.ScriptRetryTimeout = DefaultScriptRetryTimeout
	}
	if o.RebootTimeout <= 0 {
		o.RebootTimeout = DefaultRebootTimeout
	}
	switch {
	case o.RebootRetries == 0:
		o.RebootRetries = DefaultRebootRetries
	case o.RebootRetries < 0:
		o.RebootRetries = 0
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

// Errors a caller may check with errors.Is.
var (
	ErrBusy       = errors.New("engine: another update operation is running")
	ErrInProgress = errors.New("engine: an update is in progress")
	ErrNoUpdate   = errors.New("engine: no update to act on")
	ErrFailed     = errors.New("update failed")
	ErrRolledBack = errors.New("update rolled back")
	// ErrArtifactScripts: the artifact carries state scripts, which this
	// engine refuses to run (see the package documentation for why).
	ErrArtifactScripts = errors.New("artifact carries state scripts")
	// ErrNotBooted: commit refused because the updated slot is not the
	// running one (for example before the reboot into it).
	ErrNotBooted = errors.New("engine: the updated slot is not running")
)

// PatientMonitored returns a Monitoring function for the clinical-use lock:
// a patient counts as monitored while the last valid physiological sample
// is younger than recent, or while an alarm is active. lastValid returns the
// time of the last valid sample (zero if none); either hook may be nil.
func PatientMonitored(lastValid func() time.Time, alarmActive func() bool, recent time.Duration, now func() time.Time) func() bool {
	if now == nil {
		now = time.Now
	}
	return func() bool {
		if alarmActive != nil && alarmActive() {
			return true
		}
		if lastValid == nil {
			return false
		}
		t := lastValid()
		return !t.IsZero() && now().Sub(t) < recent
	}
}
