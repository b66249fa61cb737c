package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	iofs "io/fs"
	"log/slog"
	"os"

	"medagent/acquire"
	"medagent/agent"
	"medagent/config"
	"medagent/control"
	"medagent/internal/cmdline"
)

func runCmd() *cmdline.Command {
	return &cmdline.Command{
		Name:    "run",
		Usage:   "--config FILE [--device-config FILE] [--role all|acquire|uplink]",
		Summary: "run the agent: sample, process, spool and publish",
		Help: `Runs the agent until SIGINT or SIGTERM. The acquire role samples the
sensors, runs the edge algorithms and alarms and writes the spool; the
uplink role publishes the spool over MQTT; all does both in one process.

--device-config lays a per-device file (written at provisioning on the data
partition: device.id, broker, certificates) over the product configuration
that comes with the root file system; when that file does not exist the
product configuration alone is used, and the agent says so in its log.`,
		Examples: []string{
			"medagent run --config /etc/medagent/medagent.yaml --device-config /var/lib/medagent/provision/medagent.yaml --role acquire",
			"medagent run --config medagent.yaml",
		},
		Flags: func(fs *flag.FlagSet) cmdline.Run {
			path := fs.String("config", "", "configuration `FILE` (required)")
			devPath := fs.String("device-config", "", "per-device configuration `FILE` laid over --config (optional)")
			roleName := fs.String("role", "all", "which components to run, `ROLE`: all, acquire or uplink")
			return func(ctx context.Context, e env, args []string) error {
				if *path == "" || len(args) != 0 {
					return usagef("needs --config FILE and no arguments")
				}
				role, err := agent.ParseRole(*roleName)
				if err != nil {
					return usagef("%v", err)
				}
				return runAgent(ctx, e, *path, *devPath, role)
			}
		},
	}
}

// bench builds the simulators behind bus "sim": nil in the device binary,
// set by a bench build's main (cmd/medagent-sim) through UseBench.
var bench acquire.NewBench

// UseBench makes `run` put sensors on bus "sim" on simulators built by b.
// Only bench builds call it (cmd/medagent-sim), before Main.
func UseBench(b acquire.NewBench) { bench = b }

func runAgent(ctx context.Context, e env, path, devPath string, role agent.Role) error {
	var overlays []string
	devMissing := false
	if devPath != "" {
		if _, err := os.Stat(devPath); err == nil {
			overlays = append(overlays, devPath)
		} else if errors.Is(err, iofs.ErrNotExist) {
			devMissing = true
		} else {
			return fmt.Errorf("device configuration: %w", err)
		}
	}
	cfg, err := config.LoadLayers(path, overlays...)
	if err != nil {
		return err
	}
	log := newLogger(e, cfg.Log)
	if devMissing {
		log.Warn("no device configuration: running on the product configuration alone (provision the device)", "path", devPath)
	}
	a, err := agent.New(agent.Options{Config: cfg, Role: role, Logger: log, Bench: bench})
	if err != nil {
		return err
	}
	return a.Run(ctx)
}

// logRingSize is how many recent log records `medagent logs` can show.
const logRingSize = 2000

func newLogger(e env, c config.Log) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level)) // validated by config
	o := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(e.Stderr, o)
	if c.Format == "json" {
		h = slog.NewJSONHandler(e.Stderr, o)
	}
	// The ring keeps recent records for `medagent logs` (no patient data
	// is ever logged).
	return slog.New(control.NewRing(h, logRingSize))
}
