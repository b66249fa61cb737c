package config

// Handoff locates the one way from the uplink role to the acquire role
// (package handoff): verified-later commands and downloaded artifacts go
// into Dir, acquire's state of each comes back in StateDir. Used when
// commands or updates are enabled, in every role (role all takes the same
// path as split roles).
type Handoff struct {
	// Dir is written by the uplink role and read by the acquire role.
	Dir string `yaml:"dir"`
	// StateDir is written by the acquire role and read by the uplink role.
	StateDir string `yaml:"state_dir"`
	// MaxArtifactBytes bounds an artifact downloaded for an update.
	MaxArtifactBytes int64 `yaml:"max_artifact_bytes"`
	// DownloadCAFile holds the PEM trust anchors of the servers the uplink
	// downloads artifacts from; empty means mqtt.ca_file (the fleet's).
	DownloadCAFile string `yaml:"download_ca_file"`
}

func defaultHandoff() Handoff {
	return Handoff{
		Dir:              "/var/lib/medagent/handoff",
		StateDir:         "/var/lib/medagent/shared/handoff",
		MaxArtifactBytes: 1 << 30,
	}
}

// HandoffUsed reports whether the agent needs the hand-off: commands cross it,
// and the update engine's health check reads the uplink's state in it.
func (c *Config) HandoffUsed() bool { return c.Commands.Enabled || c.Update.Enabled }

func (h *Handoff) check(k *checker, used bool, spoolDir string) {
	k.rangeI("handoff.max_artifact_bytes", h.MaxArtifactBytes, 1<<20, 1<<40)
	if !used {
		return
	}
	k.required("handoff.dir", h.Dir)
	k.required("handoff.state_dir", h.StateDir)
	if h.Dir != "" && h.Dir == h.StateDir {
		k.add("handoff.state_dir", "must differ from handoff.dir (each role writes its own)")
	}
	if h.Dir != "" && (h.Dir == spoolDir || h.StateDir == spoolDir) {
		k.add("handoff.dir", "must differ from spool.dir")
	}
}

// DownloadCA is handoff.download_ca_file, else mqtt.ca_file.
func (c *Config) DownloadCA() string {
	if c.Handoff.DownloadCAFile != "" {
		return c.Handoff.DownloadCAFile
	}
	return c.MQTT.CAFile
}
