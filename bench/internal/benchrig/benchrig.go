// Package benchrig sets up what the whole-agent benchmarks share: a dev
// PKI, a spool key, a local mosquitto that requires client certificates,
// and an agent configuration pointing at it.
package benchrig

import (
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"medagent/tlsconf/tlstest"
)

// Rig is one benchmark's directory, broker and configuration.
type Rig struct {
	Dir, PKI, Config string
	Port             int
	broker           *exec.Cmd
	conf             string
}

// New writes the PKI for deviceID, starts mosquitto on a free loopback
// port and writes an agent configuration with extra YAML appended (log
// level warn unless extra has a log: section).
func New(deviceID, extra string) (*Rig, error) {
	dir, err := os.MkdirTemp("", "medagent-bench-")
	if err != nil {
		return nil, err
	}
	r := &Rig{Dir: dir, PKI: filepath.Join(dir, "pki")}
	if _, err := tlstest.WritePKI(r.PKI, deviceID); err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r.Port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	user := ""
	if os.Getuid() == 0 {
		user = "user root\n" // else mosquitto cannot read the temp files
	}
	conf := filepath.Join(dir, "mosquitto.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`%slistener %d 127.0.0.1
cafile %[3]s/ca.pem
certfile %[3]s/broker.pem
keyfile %[3]s/broker.key
require_certificate true
use_identity_as_username true
allow_anonymous false
persistence false
`, user, r.Port, r.PKI)), 0o600); err != nil {
		return nil, err
	}
	r.conf = conf
	if err := r.StartBroker(); err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	rand.Read(key)
	if err := os.WriteFile(filepath.Join(dir, "spool.key"), key, 0o600); err != nil {
		return nil, err
	}
	r.Config = filepath.Join(dir, "medagent.yaml")
	cfg := fmt.Sprintf(`device: {id: %s}
spool: {dir: %[2]s/spool, key_file: %[2]s/spool.key}
control: {socket: %[2]s/control.sock}
mqtt:
  broker: tls://127.0.0.1:%[3]d
  server_name: localhost
  ca_file: %[4]s/ca.pem
  cert_file: %[4]s/device.pem
  key_file: %[4]s/device.key
%[5]s`, deviceID, dir, r.Port, r.PKI, extra)
	if !strings.Contains(extra, "\nlog:") && !strings.HasPrefix(extra, "log:") {
		cfg += "log: {level: warn}\n"
	}
	return r, os.WriteFile(r.Config, []byte(cfg), 0o600)
}

// StartBroker starts mosquitto (again) on the rig's port.
func (r *Rig) StartBroker() error {
	r.broker = exec.Command("/usr/sbin/mosquitto", "-c", r.conf)
	if err := r.broker.Start(); err != nil {
		return fmt.Errorf("start mosquitto (install Debian package mosquitto): %w", err)
	}
	return nil
}

// StopBroker stops mosquitto: the agent sees the broker go away.
func (r *Rig) StopBroker() {
	if r.broker != nil && r.broker.Process != nil {
		r.broker.Process.Kill()
		r.broker.Wait()
		r.broker = nil
	}
}

// Close stops the broker and removes the directory.
func (r *Rig) Close() {
	r.StopBroker()
	os.RemoveAll(r.Dir)
}
