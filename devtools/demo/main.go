// Command demo is medagent's development demonstration (never part of the
// device binary): it makes a throwaway PKI, starts an in-process MQTT broker
// that requires client certificates, runs the real agent binary on
// simulated sensors, and prints the vitals a subscriber receives, one line a
// second, until Ctrl-C or --duration.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

func main() {
	agentBin := flag.String("agent", "bin/medagent-sim", "the medagent bench binary (with the simulators) to run")
	dir := flag.String("dir", ".demo", "working directory for the PKI, config, spool and logs")
	duration := flag.Duration("duration", 0, "stop after this long (0: run until Ctrl-C)")
	format := flag.String("format", "json", "payload format: json or cbor")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	if err := run(ctx, *agentBin, *dir, *format, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

const deviceID = "MA-0001"

func run(ctx context.Context, agentBin, dir, format string, out io.Writer) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	// Every run is throwaway: a fresh PKI and spool key, so a fresh spool.
	if err := os.RemoveAll(filepath.Join(dir, "spool")); err != nil {
		return err
	}
	pki, err := writePKI(filepath.Join(dir, "pki"), deviceID)
	if err != nil {
		return err
	}
	addr, err := freePort()
	if err != nil {
		return err
	}
	blog := slog.New(slog.NewTextHandler(io.Discard, nil))
	broker, err := startBroker(addr, pki.CA, pki.BrokerCert, pki.BrokerKey, blog)
	if err != nil {
		return err
	}
	defer broker.Close()
	mon := newMonitor(deviceID, format)
	if err := broker.Subscribe("medagent/v1/#", 1, mon.handle); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	cfgPath := filepath.Join(dir, "medagent.yaml")
	if err := writeConfig(cfgPath, dir, addr, format, pki); err != nil {
		return err
	}
	logPath := filepath.Join(dir, "agent.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(agentBin, "run", "--config", cfgPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start agent %s: %w (run 'make build' or 'make demo')", agentBin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	fmt.Fprintf(out, "demo: broker on tls://%s (mutual TLS), agent %s running as %s\n", addr, agentBin, deviceID)
	fmt.Fprintf(out, "demo: config %s, agent log %s; Ctrl-C to stop\n", cfgPath, logPath)

	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
			}
			fmt.Fprintln(out, mon.summary())
			return nil
		case err := <-exited:
			return fmt.Errorf("agent exited early (%v); see %s", err, logPath)
		case <-tick.C:
			fmt.Fprintln(out, mon.line(time.Now()))
		}
	}
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func writeConfig(path, dir, addr, format string, p pkiFiles) error {
	cfg := fmt.Sprintf(`# Written by the demo; see configs/medagent.example.yaml for every key.
device:
  id: %s
spool:
  dir: %s
  key_file: %s
control:
  socket: %s
mqtt:
  broker: tls://%s
  server_name: localhost
  ca_file: %s
  cert_file: %s
  key_file: %s
  format: %s
sim:
  seed: 7
  # A desaturation episode to show the alarms, then recovery.
  changes:
    - {at: 25s, ramp: 10s, spo2: 83}
    - {at: 60s, ramp: 10s, spo2: 97}
`, deviceID, filepath.Join(dir, "spool"), p.SpoolKey, demoSocket(dir), addr, p.CA, p.DeviceCert, p.DeviceKey, format)
	return os.WriteFile(path, []byte(cfg), 0o600)
}

// demoSocket is the demo agent's technician socket: beside its spool, not
// the machine's /run/medagent (which a user without root cannot create),
// unless the path is too long for a Unix socket (108 bytes on Linux).
func demoSocket(dir string) string {
	p := filepath.Join(dir, "control.sock")
	if len(p) >= 100 {
		return `""`
	}
	return p
}
