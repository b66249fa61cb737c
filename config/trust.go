package config

import (
	"path/filepath"

	"medagent/update"
)

// Trust configures the device's keys (trust/identity, trust/datakey).
type Trust struct {
	// TPM is the TPM 2.0 device ("/dev/tpmrm0") or a simulator
	// ("unix:PATH", "tcp:HOST:PORT"). Empty: /dev/tpmrm0 when present.
	// "off": never use a TPM. With a TPM the device key lives in it and the
	// spool's data key is sealed by it; without one both are files that
	// only the agent (and, for the spool key, its group) may read.
	TPM string `yaml:"tpm"`
	// AuditDir holds the security audit trail (trust/audit), writable only
	// by the acquire role. Empty: the update journal's directory (the
	// keyring's with updates off and commands on; no trail with both off).
	AuditDir string `yaml:"audit_dir"`
}

// AuditTrailDir is trust.audit_dir, else the directory of the acquire
// role's other state: the update journal's, or the keyring's; "" when the
// acquire role keeps none (no trail then).
func (c *Config) AuditTrailDir() string {
	switch {
	case c.Trust.AuditDir != "":
		return c.Trust.AuditDir
	case c.Update.Enabled:
		return filepath.Dir(c.Update.Journal)
	case c.Commands.Enabled:
		return filepath.Dir(c.Commands.Keyring)
	}
	return ""
}

// StateKeyFile is the acquire role's state key (which authenticates the
// update journal, the version floor and the audit trail): update.state_key,
// else state.key beside the update journal, beside the audit trail when
// updates are off.
func (c *Config) StateKeyFile() string {
	switch {
	case c.Update.StateKey != "":
		return c.Update.StateKey
	case c.Update.Enabled:
		return update.StateKeyFile(c.Update.Journal)
	}
	return filepath.Join(c.AuditTrailDir(), "state.key")
}
