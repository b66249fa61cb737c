package control

import "time"

// Version is the protocol version carried in every Request and Response.
const Version = 1

// DefaultSocket is where the agent listens unless told otherwise.
const DefaultSocket = "/run/medagent/control.sock"

// SocketEnv names the environment variable that overrides DefaultSocket
// (until the configuration has a control.socket key).
const SocketEnv = "MEDAGENT_SOCKET"

// Status is the data of the "status" command.
type Status struct {
	Version       string    `json:"version"`
	Commit        string    `json:"commit"`
	DeviceID      string    `json:"device_id"`
	Role          string    `json:"role"`
	StartedAt     time.Time `json:"started_at"`
	UptimeSeconds float64   `json:"uptime_s"`
	Boot          Boot      `json:"boot"`
	Broker        Broker    `json:"broker"`
	Fleet         *Fleet    `json:"fleet,omitempty"` // the Mender client, when configured in this process
	// Security lists what waits for the device's security state (a
	// certificate not valid at the clock, an unusable keyring or nonce
	// store); monitoring goes on meanwhile.
	Security    []string `json:"security,omitempty"`
	Spool       SpoolSum `json:"spool"`
	Sensors     []Sensor `json:"sensors"`
	Alarms      []Alarm  `json:"alarms"`
	Certificate *Cert    `json:"certificate"` // nil when it cannot be read
	CertError   string   `json:"cert_error,omitempty"`
}

// Boot is the A/B state from the boot environment.
type Boot struct {
	// ActiveSlot is mender_boot_part, "" when unknown.
	ActiveSlot string `json:"active_slot"`
	// State is "committed", "trial" (upgrade_available=1) or "unknown".
	State string `json:"state"`
	Note  string `json:"note,omitempty"`
}

// Fleet is the Mender client's state.
type Fleet struct {
	Server string `json:"server"`
	// Auth is "none", "pending acceptance", "accepted" or "error".
	Auth        string    `json:"auth"`
	AuthSince   time.Time `json:"auth_since,omitzero"`
	AuthTries   int       `json:"auth_tries,omitempty"`
	NextTry     time.Time `json:"next_try,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	Deployment  string    `json:"deployment,omitempty"`
	DeployState string    `json:"deploy_state,omitempty"`
	Artifact    string    `json:"artifact,omitempty"`
	Downloaded  int64     `json:"downloaded,omitempty"`
}

// Broker is the uplink's connection state.
type Broker struct {
	URL       string `json:"url"`
	Enabled   bool   `json:"enabled"` // false in the acquire role
	Connected bool   `json:"connected"`
	LastError string `json:"last_error,omitempty"`
	Published uint64 `json:"published"`
	Acked     uint64 `json:"acked"`
	InFlight  int    `json:"inflight"`
}

// SpoolSum summarises the spool for status.
type SpoolSum struct {
	Pending          uint64  `json:"pending"`
	PendingBytes     int64   `json:"pending_bytes"`
	OldestAgeSeconds float64 `json:"oldest_age_s"` // 0 when nothing is pending
	Evicted          uint64  `json:"evicted"`
	DiskBytes        int64   `json:"disk_bytes"`
}

// Sensor is one configured sensor and its latest derived values.
type Sensor struct {
	Name   string  `json:"name"`
	Driver string  `json:"driver"`
	Rate   float64 `json:"rate"`
	// State is "ok", "no_data" (nothing valid in the last windows), "alarm"
	// (a technical alarm is active for it) or "remote" (sampled by another
	// process: this one runs the uplink role).
	State   string    `json:"state"`
	Updated time.Time `json:"updated,omitzero"`
	Values  []Value   `json:"values"`
	// Simulated: the sensor is a simulator on bus "sim" (bench builds
	// only); its data is marked "sim" in SenML too.
	Simulated bool `json:"simulated,omitempty"`
}

// Value is one derived value of a sensor's latest window.
type Value struct {
	Name  string   `json:"name"` // IEEE 11073-10101 reference ID
	Unit  string   `json:"unit,omitempty"`
	Value *float64 `json:"value,omitempty"` // nil when invalid
	Text  string   `json:"text,omitempty"`
}

// Alarm is an active alarm.
type Alarm struct {
	ID           uint64    `json:"id"`
	Kind         string    `json:"kind"`
	Vital        string    `json:"vital,omitempty"`
	Source       string    `json:"source,omitempty"`
	Condition    string    `json:"condition"`
	Priority     string    `json:"priority"`
	Value        float64   `json:"value"`
	Limit        float64   `json:"limit"`
	Since        time.Time `json:"since"`
	Present      bool      `json:"present"`
	Acknowledged bool      `json:"acknowledged"`
}

// SpoolStats is the data of "spool": the same fields as the offline
// `medagent spool stats --json`.
type SpoolStats struct {
	Classes       map[string]SpoolClass `json:"classes"`
	DiskBytes     int64                 `json:"disk_bytes"`
	Encrypted     bool                  `json:"encrypted"`
	CorruptFrames uint64                `json:"corrupt_frames"`
	DamagedSpans  uint64                `json:"damaged_spans"`
	TornTails     uint64                `json:"torn_tails"`
}

// SpoolClass is one class log of the spool.
type SpoolClass struct {
	Pending      uint64     `json:"pending"`
	PendingBytes int64      `json:"pending_bytes"`
	Oldest       *time.Time `json:"oldest"` // null when nothing is pending
	OldestApprox bool       `json:"oldest_approx,omitempty"`
	Evicted      uint64     `json:"evicted"`
	Segments     int        `json:"segments"`
	Bytes        int64      `json:"bytes"`
}

// Certs is the data of "certs": the device certificate and the CA.
type Certs struct {
	Device *Cert  `json:"device"`
	CA     []Cert `json:"ca"`
	Error  string `json:"error,omitempty"`
}

// Cert describes one X.509 certificate (never its key).
type Cert struct {
	File     string    `json:"file"`
	Subject  string    `json:"subject"`
	Issuer   string    `json:"issuer"`
	Serial   string    `json:"serial"` // hex
	NotAfter time.Time `json:"not_after"`
	DaysLeft int       `json:"days_left"` // negative once expired
}

// LogRecord is one record of the log ring.
type LogRecord struct {
	Time  time.Time         `json:"time"`
	Level string            `json:"level"`
	Msg   string            `json:"msg"`
	Attrs map[string]string `json:"attrs,omitempty"`
}

// Audit is the answer to "audit": the check of the whole security audit
// trail (trust/audit) and its newest entries.
type Audit struct {
	Intact   bool         `json:"intact"`
	First    uint64       `json:"first"` // first entry kept
	Last     uint64       `json:"last"`
	Problems []string     `json:"problems,omitempty"` // what was edited, deleted or cut off
	Entries  []AuditEntry `json:"entries"`            // the newest, oldest first
}

// AuditEntry is one audit trail entry.
type AuditEntry struct {
	Seq    uint64            `json:"seq"`
	Time   time.Time         `json:"time"`
	Kind   string            `json:"kind"`
	Fields map[string]string `json:"fields,omitempty"`
}

// Check is one line of the selftest.
type Check struct {
	Name   string `json:"name"` // "sensor ecg", "spool", "broker"
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Selftest is the data of "selftest".
type Selftest struct {
	OK     bool    `json:"ok"`
	Checks []Check `json:"checks"`
}

// Diag is what the agent contributes to a diagnostic bundle: the
// configuration with secrets redacted and the boot environment. It never
// holds key material or spool payloads.
type Diag struct {
	ConfigYAML string            `json:"config_yaml"`
	BootEnv    map[string]string `json:"boot_env,omitempty"`
	BootNote   string            `json:"boot_note,omitempty"`
}
