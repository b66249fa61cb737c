package cli

import (
	"context"
	"log/slog"

	"medagent/agent"
	"medagent/config"
	"medagent/control"
)

func runAgent(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "run", `run --config FILE [--role all|acquire|uplink]

Runs the agent until SIGINT or SIGTERM. The acquire role samples the sensors,
processes and spools; the uplink role publishes the spool; all does both.

Example:
  medagent run --config /etc/medagent/medagent.yaml --role acquire`)
	path := fs.String("config", "", "configuration `FILE` (required)")
	roleName := fs.String("role", "all", "which components to run: all, acquire or uplink")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *path == "" {
		return usagef("run needs --config FILE")
	}
	role, err := agent.ParseRole(*roleName)
	if err != nil {
		return usagef("%v", err)
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	a, err := agent.New(agent.Options{Config: cfg, Role: role, Logger: newLogger(e, cfg.Log)})
	if err != nil {
		return err
	}
	return a.Run(ctx)
}

// logRingSize is how many recent log records `medagent logs` can show.
const logRingSize = 2000

func newLogger(e *env, c config.Log) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level)) // validated by config
	o := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(e.stderr, o)
	if c.Format == "json" {
		h = slog.NewJSONHandler(e.stderr, o)
	}
	// The ring keeps recent records for `medagent logs` (no patient data
	// is ever logged).
	return slog.New(control.NewRing(h, logRingSize))
}
