package config

import (
	"path/filepath"
	"time"

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
	// The audit trail's flood bound (trust/audit): each kind of entry may
	// come in bursts of AuditBurst, then one per AuditEvery; beyond that
	// entries are dropped and counted. The counts are kept on disk at most
	// once per AuditDropSync: a power cut loses at most that interval's
	// count, and a flood costs one small file rewrite per interval.
	AuditBurst    int           `yaml:"audit_burst"`
	AuditEvery    time.Duration `yaml:"audit_every"`
	AuditDropSync time.Duration `yaml:"audit_drop_sync"`
}

// Defaults of the audit flood bound (as trust/audit's).
const (
	defaultAuditBurst    = 20
	defaultAuditEvery    = 10 * time.Second
	defaultAuditDropSync = time.Second
)

func defaultTrust() Trust {
	return Trust{AuditBurst: defaultAuditBurst, AuditEvery: defaultAuditEvery, AuditDropSync: defaultAuditDropSync}
}

// check validates the flood bound: a burst below 2 would leave no room for
// the count next to an entry, one above 1000 or a rate above 10 a second
// per kind would let a flood fill the spool and rotate evidence out; a
// sync interval below 100 ms would wear the storage under a flood, one
// above a minute would lose too much of the count to a power cut.
func (t Trust) check(c *checker) {
	c.rangeI("trust.audit_burst", int64(t.AuditBurst), 2, 1000)
	c.rangeD("trust.audit_every", t.AuditEvery, 100*time.Millisecond, time.Hour)
	c.rangeD("trust.audit_drop_sync", t.AuditDropSync, 100*time.Millisecond, time.Minute)
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
