package config

// Commands configures signed remote commands (trust/command). Off unless
// enabled: with it on, the uplink subscribes to {prefix}/{device}/cmd/# and
// obeys only commands signed by a key in the keyring, addressed to this
// device, unexpired and never seen before.
type Commands struct {
	Enabled bool `yaml:"enabled"`
	// Keyring is the trust store of command and update signing keys
	// (trust/keyring), written at provisioning.
	Keyring string `yaml:"keyring"`
	// NonceFile remembers accepted commands across restarts.
	NonceFile string `yaml:"nonce_file"`
}

func defaultCommands() Commands {
	return Commands{
		Keyring:   "/var/lib/medagent/keyring.json",
		NonceFile: "/var/lib/medagent/nonces.json",
	}
}

func (c *Commands) check(k *checker) {
	if !c.Enabled {
		return
	}
	k.required("commands.keyring", c.Keyring)
	k.required("commands.nonce_file", c.NonceFile)
}
