package config

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
