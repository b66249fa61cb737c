package e2e

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"medagent/senml"
	"medagent/spool"
	"medagent/telemetry"
	"medagent/tlsconf/tlstest"
	"medagent/uplink/mosquittotest"
)

const deviceID = "MA-0001"

// agentBin is the amd64 binary under test, built once by TestMain.
var agentBin string

// envAgent passes the built binary to a test that runs again in a child
// process (spooltest.RunInSmallFS), so that it is not built twice.
const envAgent = "MEDAGENT_E2E_AGENT"

func TestMain(m *testing.M) {
	if agentBin = os.Getenv(envAgent); agentBin != "" {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "medagent-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buildDir = dir
	agentBin = filepath.Join(dir, "medagent")
	if out, err := build(agentBin, "amd64"); err != nil {
		fmt.Fprintf(os.Stderr, "build medagent: %v\n%s", err, out)
		os.Exit(1)
	}
	os.Setenv(envAgent, agentBin)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildDir holds the binaries built for the tests (TestMain's).
var buildDir string

var built sync.Map // GOARCH -> func() (string, error)

// binary builds the bench binary for goarch once for all the tests that
// run it (they may run in parallel).
func binary(t *testing.T, goarch string) string {
	t.Helper()
	f, _ := built.LoadOrStore(goarch, sync.OnceValues(func() (string, error) {
		bin := filepath.Join(buildDir, "medagent-"+goarch)
		if out, err := build(bin, goarch); err != nil {
			return "", fmt.Errorf("build %s: %w\n%s", goarch, err, out)
		}
		return bin, nil
	}))
	bin, err := f.(func() (string, error))()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// build builds the bench binary (the device binary with the simulators)
// the way the Makefile does.
func build(out, goarch string) ([]byte, error) {
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags", "-s -w -buildid=", "-o", out, "../cmd/medagent-sim")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch, "GOARM=7")
	return cmd.CombinedOutput()
}

// rig is one device's files: PKI, spool key, config. spoolYAML and
// extraYAML, when set before writeConfig, add keys to the spool section
// and top-level sections.
type rig struct {
	dir, pki, spoolDir, keyFile, config string
	spoolYAML, extraYAML                string
}

func newRig(t *testing.T, brokerURL string) *rig {
	t.Helper()
	dir := t.TempDir()
	r := &rig{dir: dir, pki: filepath.Join(dir, "pki"), spoolDir: filepath.Join(dir, "spool"), keyFile: filepath.Join(dir, "spool.key")}
	if _, err := tlstest.WritePKI(r.pki, deviceID); err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	rand.Read(key)
	if err := os.WriteFile(r.keyFile, key, 0o600); err != nil {
		t.Fatal(err)
	}
	r.writeConfig(t, brokerURL)
	return r
}

func (r *rig) writeConfig(t *testing.T, brokerURL string) {
	t.Helper()
	r.config = filepath.Join(r.dir, "medagent.yaml")
	cfg := fmt.Sprintf(`device:
  id: %s
spool:
  dir: %s
  key_file: %s
%smqtt:
  broker: %s
  server_name: localhost
  ca_file: %s/ca.pem
  cert_file: %s/device.pem
  key_file: %s/device.key
  backoff_min: 200ms
  backoff_max: 2s
control:
  socket: %s/control.sock
log:
  level: debug
%s`, deviceID, r.spoolDir, r.keyFile, r.spoolYAML, brokerURL, r.pki, r.pki, r.pki, r.dir, r.extraYAML)
	if err := os.WriteFile(r.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
}

// proc is a running agent.
type proc struct {
	cmd  *exec.Cmd
	log  *logBuffer
	done chan error
}

// logBuffer is the agent's output, safe to read while the agent writes.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitLog waits until the agent's output holds s.
func (p *proc) waitLog(t *testing.T, s string, timeout time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !strings.Contains(p.log.String(), s); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the agent's output after %v:\n%s", s, timeout, p.log)
		}
	}
}

func (r *rig) start(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	args = append([]string{"run", "--config", r.config}, args...)
	if strings.Contains(bin, "qemu") {
		args = append([]string{filepath.Join(buildDir, "medagent-arm64")}, args...)
	}
	p := &proc{cmd: exec.Command(bin, args...), log: &logBuffer{}, done: make(chan error, 1)}
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		if t.Failed() {
			t.Logf("agent log:\n%s", p.log.String())
		}
	})
	return p
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("agent exited with %v after SIGTERM\n%s", err, p.log)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("agent did not stop within 20 s of SIGTERM\n%s", p.log)
	}
}

func (p *proc) kill(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// pending reads the spool's pending record count offline.
func (r *rig) pending(t *testing.T) (pending, evicted uint64) {
	t.Helper()
	st, err := spool.ReadStats(r.spoolDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range st.Classes {
		pending += c.Pending
		evicted += c.Evicted
	}
	return pending, evicted
}

// syncTopic is where Monitor.Sync publishes its marker: a command topic
// of no device (the monitor may write only command topics).
const syncTopic = "medagent/v1/e2e-sync/cmd/sync"

// drain runs the uplink role until the spool is empty, then stops it.
func (r *rig) drain(t *testing.T) {
	t.Helper()
	if n, _ := r.pending(t); n == 0 {
		return
	}
	p := r.start(t, agentBin, "--role", "uplink")
	p.waitLog(t, "agent running", 30*time.Second) // its SIGTERM handler is set up
	deadline := time.Now().Add(60 * time.Second)
	for {
		if n, _ := r.pending(t); n == 0 {
			break
		}
		if time.Now().After(deadline) {
			n, _ := r.pending(t)
			t.Fatalf("spool still holds %d records after 60 s of uplink", n)
		}
		time.Sleep(200 * time.Millisecond)
	}
	p.stop(t)
}

// received decodes every telemetry message of the monitor, by topic.
type streamLog struct {
	seqs    map[uint64][]byte // seq -> payload
	dups    int
	records []senml.Entry
}

func collect(t *testing.T, msgs []mosquittotest.Message) map[string]*streamLog {
	t.Helper()
	out := map[string]*streamLog{}
	for _, m := range msgs {
		if !strings.Contains(m.Topic, "/"+telemetry.ClassTelemetry.Topic()+"/") {
			continue
		}
		res, err := senml.Decode(m.Payload, senml.JSON)
		if err != nil {
			t.Fatalf("%s: payload is not valid SenML: %v\n%s", m.Topic, err, m.Payload)
		}
		if !res.HasSeq {
			t.Fatalf("%s: pack without seq: %s", m.Topic, m.Payload)
		}
		s := out[m.Topic]
		if s == nil {
			s = &streamLog{seqs: map[uint64][]byte{}}
			out[m.Topic] = s
		}
		if prev, ok := s.seqs[res.Seq]; ok {
			if !bytes.Equal(prev, m.Payload) {
				t.Errorf("%s: seq %d arrived twice with different payloads: a record was lost and its seq reused", m.Topic, res.Seq)
			}
			s.dups++
			continue
		}
		s.seqs[res.Seq] = m.Payload
		s.records = append(s.records, res.Records...)
	}
	return out
}

// checkComplete asserts every stream's seqs are exactly 1..max.
func checkComplete(t *testing.T, streams map[string]*streamLog, minPerStream int, maxDups int) {
	t.Helper()
	if len(streams) != 3 {
		t.Errorf("got telemetry on %d topics, want 3 (ecg, ppg, temp)", len(streams))
	}
	for topic, s := range streams {
		var max uint64
		for q := range s.seqs {
			if q > max {
				max = q
			}
		}
		if int(max) < minPerStream {
			t.Errorf("%s: only %d packs, want at least %d", topic, max, minPerStream)
		}
		for q := uint64(1); q <= max; q++ {
			if _, ok := s.seqs[q]; !ok {
				t.Errorf("%s: seq %d missing (lost record); have %d of 1..%d", topic, q, len(s.seqs), max)
				break
			}
		}
		if s.dups > maxDups {
			t.Errorf("%s: %d duplicates, more than the in-flight window %d", topic, s.dups, maxDups)
		}
	}
}
