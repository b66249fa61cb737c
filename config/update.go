package config

import (
	"fmt"
	"time"

	"medagent/update"
)

// Update configures A/B system updates (update/engine). Off unless enabled:
// a bench or development machine has no slots to write.
type Update struct {
	Enabled bool `yaml:"enabled"`
	// Journal is the update state file, on the persistent data partition.
	Journal string `yaml:"journal"`
	// FWEnvConfig locates the U-Boot environment (fw_env.config format).
	FWEnvConfig string `yaml:"fw_env_config"`
	// SlotA and SlotB are the root-filesystem block devices (or files on
	// the bench); PartA and PartB their U-Boot partition numbers, the
	// values of mender_boot_part.
	SlotA string `yaml:"slot_a"`
	SlotB string `yaml:"slot_b"`
	PartA string `yaml:"part_a"`
	PartB string `yaml:"part_b"`
	// Cmdline is the kernel command line, where the boot loader names the
	// slot it booted (medagent.slot=a|b) or root= names a slot device: the
	// only evidence of the running slot the agent accepts.
	Cmdline string `yaml:"cmdline"`
	// Keys are the PEM public keys that may sign artifacts (a list, for
	// rotation). With commands enabled the keyring's update keys count too.
	// With none at all, every install is refused.
	Keys []string `yaml:"keys"`
	// ScriptsDir holds state scripts with Mender's names.
	ScriptsDir string `yaml:"scripts_dir"`
	// RebootCommand reboots the device.
	RebootCommand []string `yaml:"reboot_command"`
	// RebootTimeout is how long after a reboot request the agent waits
	// for the reboot to stop it; RebootRetries how often it then asks
	// again before it gives up: the boot environment goes back to the
	// running slot and the update fails with the reason.
	RebootTimeout time.Duration `yaml:"reboot_timeout"`
	RebootRetries int           `yaml:"reboot_retries"`
	// HealthTimeout bounds each health check after the trial boot.
	HealthTimeout time.Duration `yaml:"health_timeout"`
	// MonitoringGrace: a patient counts as monitored while valid
	// physiological data arrived within this time or an alarm is active;
	// the agent then installs but does not reboot.
	MonitoringGrace time.Duration `yaml:"monitoring_grace"`
	// StateKey is the acquire role's key that authenticates the update
	// journal (sealed by the TPM when there is one, else a 0600 file; made
	// at first start). Empty: state.key beside the journal.
	StateKey string `yaml:"state_key"`
	// MaxWindow bounds the decompression window (xz dictionary, zstd
	// window) an install may allocate, in bytes; larger ones are refused.
	MaxWindow int64 `yaml:"max_window"`
	// RequireChunks refuses artifacts without a signed chunk list, so
	// that no unverified byte is ever written to a slot.
	RequireChunks bool `yaml:"require_chunks"`
	// InstallDir is the only directory a technician's "update install
	// FILE" may name (regular files only). Empty: installs from files are
	// refused.
	InstallDir string `yaml:"install_dir"`
	// CAFile holds the PEM trust anchors of the update server for https
	// installs (never the system's); RedirectHosts are other hosts a
	// redirect may lead to; DownloadDir keeps a download across restarts
	// (empty: stream it).
	CAFile        string   `yaml:"ca_file"`
	RedirectHosts []string `yaml:"redirect_hosts"`
	DownloadDir   string   `yaml:"download_dir"`
}

func defaultUpdate() Update {
	return Update{
		Journal:         "/var/lib/medagent/update.journal",
		FWEnvConfig:     "/etc/fw_env.config",
		PartA:           "2",
		PartB:           "3",
		Cmdline:         "/proc/cmdline",
		RebootCommand:   update.DefaultRebootCommand,
		RebootTimeout:   5 * time.Minute,
		RebootRetries:   2,
		HealthTimeout:   2 * time.Minute,
		MonitoringGrace: 30 * time.Second,
		MaxWindow:       8 << 20,
		InstallDir:      "/var/lib/medagent/updates",
	}
}

func (u *Update) check(c *checker, keyring bool) {
	c.rangeD("update.health_timeout", u.HealthTimeout, time.Second, time.Hour)
	c.rangeD("update.monitoring_grace", u.MonitoringGrace, time.Second, time.Hour)
	c.rangeI("update.max_window", u.MaxWindow, 1<<20, 1<<30)
	// Below 30 s an orderly shutdown (each service has its stop timeout)
	// may still be under way when the agent asks again.
	c.rangeD("update.reboot_timeout", u.RebootTimeout, 30*time.Second, time.Hour)
	c.rangeI("update.reboot_retries", int64(u.RebootRetries), 0, 10)
	if !u.Enabled {
		return
	}
	c.required("update.journal", u.Journal)
	c.required("update.fw_env_config", u.FWEnvConfig)
	c.required("update.slot_a", u.SlotA)
	c.required("update.slot_b", u.SlotB)
	c.required("update.cmdline", u.Cmdline)
	if u.SlotA != "" && u.SlotA == u.SlotB {
		c.add("update.slot_b", "must differ from update.slot_a (%q)", u.SlotA)
	}
	if u.PartA == u.PartB {
		c.add("update.part_b", "must differ from update.part_a (%q)", u.PartA)
	}
	if len(u.Keys) == 0 && !keyring {
		c.add("update.keys", "at least one artifact signing key is required when updates are enabled and commands (with their keyring) are not (unsigned updates are never installed)")
	}
	if len(u.RebootCommand) == 0 {
		c.add("update.reboot_command", "is required when updates are enabled")
	}
	for i, k := range u.Keys {
		if k == "" {
			c.add(fmt.Sprintf("update.keys[%d]", i), "is empty")
		}
	}
}
