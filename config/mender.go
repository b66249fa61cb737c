package config

import (
	"net/url"
	"time"
)

// Mender configures the client of a Mender server (package mender), in
// the uplink role. Off unless ServerURL is set; it needs updates enabled
// (the install happens in acquire, through the hand-off).
type Mender struct {
	ServerURL   string `yaml:"server_url"`
	TenantToken string `yaml:"tenant_token"`
	// Identity: device_id, mac (of IdentityInterface) or serial (SerialFile).
	Identity          string `yaml:"identity"`
	IdentityInterface string `yaml:"identity_interface"`
	SerialFile        string `yaml:"serial_file"`
	// CAFile: the server's trust anchor; empty means the system roots.
	CAFile            string        `yaml:"ca_file"`
	PollInterval      time.Duration `yaml:"poll_interval"`
	InventoryInterval time.Duration `yaml:"inventory_interval"`
	RetryMin          time.Duration `yaml:"retry_min"`
	RetryMax          time.Duration `yaml:"retry_max"`
	// StateDir keeps the deployment in progress (the uplink role's own).
	StateDir string `yaml:"state_dir"`
	// ArtifactInfo names the running artifact (artifact_name=...), as
	// meta-mender's rootfs carries it.
	ArtifactInfo string `yaml:"artifact_info"`
}

func defaultMender() Mender {
	return Mender{
		Identity: "device_id", IdentityInterface: "eth0", SerialFile: "/proc/device-tree/serial-number",
		PollInterval: 30 * time.Minute, InventoryInterval: 8 * time.Hour,
		RetryMin: 5 * time.Second, RetryMax: 5 * time.Minute,
		StateDir:     "/var/lib/medagent/uplink/mender",
		ArtifactInfo: "/etc/mender/artifact_info",
	}
}

func (m *Mender) check(k *checker, updates bool) {
	if m.ServerURL == "" {
		return
	}
	if u, err := url.Parse(m.ServerURL); err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") {
		k.add("mender.server_url", "want https://host[:port] with no path (plain HTTP is not allowed)")
	}
	if !updates {
		k.add("mender.server_url", "needs update.enabled: true (acquire installs what the server deploys)")
	}
	k.oneOf("mender.identity", m.Identity, "device_id", "mac", "serial")
	k.rangeD("mender.poll_interval", m.PollInterval, 10*time.Second, 7*24*time.Hour)
	k.rangeD("mender.inventory_interval", m.InventoryInterval, time.Minute, 7*24*time.Hour)
	k.rangeD("mender.retry_min", m.RetryMin, 100*time.Millisecond, time.Hour)
	k.rangeD("mender.retry_max", m.RetryMax, m.RetryMin, 24*time.Hour)
	k.required("mender.state_dir", m.StateDir)
	k.required("mender.artifact_info", m.ArtifactInfo)
}
