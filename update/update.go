package update

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// DefaultRebootCommand is the one default reboot command of the agent's
// configuration (update.reboot_command) and of the offline
// "medagent update" command (--reboot-cmd): /sbin/reboot exists on systemd
// (where it asks systemd for an orderly reboot), sysvinit and busybox
// systems alike, unlike "systemctl reboot".
var DefaultRebootCommand = []string{"/sbin/reboot"}

// RebootFunc returns the reboot request that runs argv (the configured
// update.reboot_command), or nil for an empty argv. Its error carries the
// command's output.
func RebootFunc(argv []string) func(ctx context.Context) error {
	if len(argv) == 0 {
		return nil
	}
	return func(ctx context.Context) error {
		if out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("%q: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
		}
		return nil
	}
}

// StateKeyFile is the default state key of an update journal: state.key
// beside it (update.state_key, --state-key).
func StateKeyFile(journal string) string { return filepath.Join(filepath.Dir(journal), "state.key") }
