package mosquittotest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"medagent/internal/testport"
	"medagent/tlsconf/tlstest"
)

// Path is where Debian installs the broker.
const Path = "/usr/sbin/mosquitto"

// Options tune the broker.
type Options struct {
	// Persistence keeps sessions and queued QoS 1 messages across Restart
	// (persistence file in a temp dir). Off by default.
	Persistence bool
	// ACL replaces the default ACL file contents.
	ACL string
}

// DefaultACL lets the monitor (also the back end that sends commands) read
// everything under medagent/v1 and write commands, and each
// device (username = certificate CN) write only its own subtree and read
// only its own command topic.
const DefaultACL = `user ` + tlstest.MonitorName + `
topic read medagent/v1/#
topic write medagent/v1/+/cmd/#

pattern write medagent/v1/%u/#
pattern read medagent/v1/%u/cmd/#
`

// Broker is a running mosquitto.
type Broker struct {
	Addr string // 127.0.0.1:port
	URL  string // tls://127.0.0.1:port

	t    testing.TB
	conf string
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	log  bytes.Buffer // guarded by mu (through lockedWriter)
}

// Start starts mosquitto with the PKI in pkiDir and default options. The
// broker is stopped when the test ends; its log is printed if it failed.
func Start(t testing.TB, pkiDir string) *Broker {
	return StartWithOptions(t, pkiDir, Options{})
}

// StartWithOptions is Start with options.
func StartWithOptions(t testing.TB, pkiDir string, o Options) *Broker {
	t.Helper()
	if _, err := os.Stat(Path); err != nil {
		t.Fatalf("mosquittotest: %s not found: install Debian package mosquitto (scripts/setup.sh)", Path)
	}
	for _, f := range []string{tlstest.CAFile, tlstest.BrokerCertFile, tlstest.BrokerKeyFile} {
		if _, err := os.Stat(filepath.Join(pkiDir, f)); err != nil {
			t.Fatalf("mosquittotest: PKI file missing (write it with tlstest.WritePKI): %v", err)
		}
	}
	dir := t.TempDir()
	port, err := testport.Free()
	if err != nil {
		t.Fatalf("mosquittotest: %v", err)
	}
	acl := o.ACL
	if acl == "" {
		acl = DefaultACL
	}
	aclFile := filepath.Join(dir, "acl")
	if err := os.WriteFile(aclFile, []byte(acl), 0o600); err != nil {
		t.Fatal(err)
	}
	var c bytes.Buffer
	fmt.Fprintf(&c, "per_listener_settings false\n")
	if o.Persistence {
		fmt.Fprintf(&c, "persistence true\npersistence_location %s/\nautosave_interval 0\nmax_queued_messages 0\n", dir)
	} else {
		fmt.Fprintf(&c, "persistence false\n")
	}
	fmt.Fprintf(&c, "log_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\nlog_type information\n")
	fmt.Fprintf(&c, "log_timestamp_format %%H:%%M:%%S\n")
	if os.Geteuid() == 0 {
		// As root mosquitto would switch to user "mosquitto", which cannot
		// read the test's temp files.
		fmt.Fprintf(&c, "user root\n")
	}
	fmt.Fprintf(&c, "allow_anonymous false\nacl_file %s\n", aclFile)
	fmt.Fprintf(&c, "listener %d 127.0.0.1\n", port)
	fmt.Fprintf(&c, "cafile %s\ncertfile %s\nkeyfile %s\n",
		filepath.Join(pkiDir, tlstest.CAFile), filepath.Join(pkiDir, tlstest.BrokerCertFile), filepath.Join(pkiDir, tlstest.BrokerKeyFile))
	fmt.Fprintf(&c, "require_certificate true\nuse_identity_as_username true\n")
	conf := filepath.Join(dir, "mosquitto.conf")
	if err := os.WriteFile(conf, c.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	b := &Broker{Addr: addr, URL: "tls://" + addr, t: t, conf: conf}
	t.Cleanup(func() {
		b.Stop()
		if t.Failed() {
			t.Logf("mosquitto log:\n%s", b.Log())
		}
	})
	b.start()
	return b
}

type lockedWriter struct{ b *Broker }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.b.mu.Lock()
	defer w.b.mu.Unlock()
	return w.b.log.Write(p)
}

func (b *Broker) start() {
	b.t.Helper()
	cmd := exec.Command(Path, "-c", b.conf)
	cmd.Stdout = lockedWriter{b}
	cmd.Stderr = lockedWriter{b}
	if err := cmd.Start(); err != nil {
		b.t.Fatalf("mosquittotest: start %s: %v", Path, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	b.mu.Lock()
	b.cmd, b.done = cmd, done
	b.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-done:
			b.t.Fatalf("mosquittotest: mosquitto exited at start (%v); log:\n%s", cmd.ProcessState, b.Log())
		default:
		}
		c, err := net.DialTimeout("tcp", b.Addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			b.Stop()
			b.t.Fatalf("mosquittotest: mosquitto not listening on %s after 10 s; log:\n%s", b.Addr, b.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop stops the broker (SIGTERM, then SIGKILL after 5 s) and waits for it.
// Stopping a stopped broker does nothing.
func (b *Broker) Stop() {
	b.mu.Lock()
	cmd, done := b.cmd, b.done
	b.cmd = nil
	b.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

// Restart stops the broker if it runs and starts it again on the same port.
func (b *Broker) Restart() {
	b.t.Helper()
	b.Stop()
	b.start()
}

// Log returns what the broker logged so far.
func (b *Broker) Log() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.log.String()
}
