package mender

import (
	"fmt"
	"net/url"
	"time"
)

// Options configure the client (config keys mender.*). Zero values take
// the defaults shown.
type Options struct {
	// ServerURL is the Mender server, https://host[:port]. Empty: off.
	ServerURL string `yaml:"server_url"`
	// TenantToken is sent with the auth request (hosted Mender).
	TenantToken string `yaml:"tenant_token"`
	// Identity says which identity data the device presents: "device_id"
	// (default; device.id), "mac" (of IdentityInterface) or "serial" (the
	// contents of SerialFile).
	Identity          string `yaml:"identity"`
	IdentityInterface string `yaml:"identity_interface"` // default eth0
	SerialFile        string `yaml:"serial_file"`        // default /proc/device-tree/serial-number
	// CAFile is the server's (and its storage's) trust anchor; empty: the
	// system roots.
	CAFile string `yaml:"ca_file"`
	// PollInterval: how often to ask for a deployment; default 30m.
	PollInterval time.Duration `yaml:"poll_interval"`
	// InventoryInterval: how often to send the inventory even unchanged;
	// default 8h.
	InventoryInterval time.Duration `yaml:"inventory_interval"`
	// RetryMin and RetryMax bound the backoff of failed calls (and of the
	// auth request while the device is not accepted); default 5s and 5m.
	RetryMin time.Duration `yaml:"retry_min"`
	RetryMax time.Duration `yaml:"retry_max"`
	// RequestTimeout bounds one API call; default 30s. Downloads are
	// bounded by StallTimeout instead: no byte for that long ends the
	// attempt (default 60s), and the download resumes.
	RequestTimeout time.Duration `yaml:"request_timeout"`
	StallTimeout   time.Duration `yaml:"stall_timeout"`
	// MaxArtifactBytes bounds a download; default 1 GiB.
	MaxArtifactBytes int64 `yaml:"max_artifact_bytes"`
	// StateDir keeps the deployment in progress; required when enabled.
	StateDir string `yaml:"state_dir"`
}

// Enabled reports whether a server is configured.
func (o *Options) Enabled() bool { return o.ServerURL != "" }

func (o *Options) ensureDefaults() {
	if o.Identity == "" {
		o.Identity = "device_id"
	}
	if o.IdentityInterface == "" {
		o.IdentityInterface = "eth0"
	}
	if o.SerialFile == "" {
		o.SerialFile = "/proc/device-tree/serial-number"
	}
	if o.PollInterval == 0 {
		o.PollInterval = 30 * time.Minute
	}
	if o.InventoryInterval == 0 {
		o.InventoryInterval = 8 * time.Hour
	}
	if o.RetryMin == 0 {
		o.RetryMin = 5 * time.Second
	}
	if o.RetryMax == 0 {
		o.RetryMax = 5 * time.Minute
	}
	if o.RequestTimeout == 0 {
		o.RequestTimeout = 30 * time.Second
	}
	if o.StallTimeout == 0 {
		o.StallTimeout = time.Minute
	}
	if o.MaxArtifactBytes == 0 {
		o.MaxArtifactBytes = 1 << 30
	}
}

func (o *Options) validate() error {
	u, err := url.Parse(o.ServerURL)
	switch {
	case err != nil:
		return fmt.Errorf("mender: server_url %q: %w", o.ServerURL, err)
	case u.Scheme != "https" || u.Host == "":
		return fmt.Errorf("mender: server_url %q: want https://host[:port] (plain HTTP is not allowed)", o.ServerURL)
	case u.Path != "" && u.Path != "/":
		return fmt.Errorf("mender: server_url %q: no path, the API paths are fixed", o.ServerURL)
	}
	switch o.Identity {
	case "device_id", "mac", "serial":
	default:
		return fmt.Errorf("mender: identity %q: want device_id, mac or serial", o.Identity)
	}
	if o.StateDir == "" {
		return fmt.Errorf("mender: state_dir is required (where the deployment in progress is kept)")
	}
	if o.PollInterval < 100*time.Millisecond || o.InventoryInterval < 100*time.Millisecond {
		return fmt.Errorf("mender: poll_interval %v, inventory_interval %v: want at least 100ms", o.PollInterval, o.InventoryInterval)
	}
	if o.RetryMin <= 0 || o.RetryMax < o.RetryMin {
		return fmt.Errorf("mender: retry %v..%v: want 0 < min <= max", o.RetryMin, o.RetryMax)
	}
	if o.MaxArtifactBytes < 1<<20 {
		return fmt.Errorf("mender: max_artifact_bytes %d: want at least 1 MiB", o.MaxArtifactBytes)
	}
	return nil
}
