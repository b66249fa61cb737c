// Command rss measures the agent's memory while it monitors: it runs the
// real binary on simulated sensors (ECG 500 Hz, PPG 100 Hz, temperature)
// publishing over mutual TLS to a local mosquitto for --duration, samples
// VmRSS every 5 s and prints the last and the peak (VmHWM). Target: 20 MiB.
package main

import (
	"bufio"
	"crypto/rand"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"medagent/tlsconf/tlstest"
)

func main() {
	agent := flag.String("agent", "bin/medagent-linux-amd64", "agent binary")
	duration := flag.Duration("duration", 10*time.Minute, "how long to monitor")
	flag.Parse()
	if err := run(*agent, *duration); err != nil {
		fmt.Fprintln(os.Stderr, "rss:", err)
		os.Exit(1)
	}
}

func run(agent string, d time.Duration) error {
	dir, err := os.MkdirTemp("", "medagent-rss-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	pki := filepath.Join(dir, "pki")
	if _, err := tlstest.WritePKI(pki, "MA-RSS"); err != nil {
		return err
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	conf := filepath.Join(dir, "mosquitto.conf")
	user := ""
	if os.Getuid() == 0 {
		user = "user root\n"
	}
	os.WriteFile(conf, []byte(fmt.Sprintf(`%slistener %d 127.0.0.1
cafile %s/ca.pem
certfile %s/broker.pem
keyfile %s/broker.key
require_certificate true
use_identity_as_username true
allow_anonymous false
persistence false
`, user, port, pki, pki, pki)), 0o600)
	broker := exec.Command("/usr/sbin/mosquitto", "-c", conf)
	if err := broker.Start(); err != nil {
		return fmt.Errorf("start mosquitto (install Debian package mosquitto): %w", err)
	}
	defer broker.Process.Kill()
	key := make([]byte, 32)
	rand.Read(key)
	os.WriteFile(filepath.Join(dir, "spool.key"), key, 0o600)
	cfg := filepath.Join(dir, "medagent.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`device: {id: MA-RSS}
spool: {dir: %s/spool, key_file: %s/spool.key}
mqtt:
  broker: tls://127.0.0.1:%d
  server_name: localhost
  ca_file: %s/ca.pem
  cert_file: %s/device.pem
  key_file: %s/device.key
log: {level: warn}
`, dir, dir, port, pki, pki, pki)), 0o600)
	cmd := exec.Command(agent, "run", "--config", cfg)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer cmd.Process.Kill()
	start := time.Now()
	var last string
	for time.Since(start) < d {
		time.Sleep(5 * time.Second)
		if last, err = status(cmd.Process.Pid, "VmRSS"); err != nil {
			return fmt.Errorf("agent died: %w", err)
		}
	}
	peak, err := status(cmd.Process.Pid, "VmHWM")
	if err != nil {
		return err
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	fmt.Printf("rss after %v monitoring ECG 500 Hz + PPG 100 Hz + temp over mTLS MQTT: VmRSS %s, peak VmHWM %s (target <= 20 MiB = 20480 kB)\n", d, last, peak)
	return nil
}

func status(pid int, field string) (string, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
