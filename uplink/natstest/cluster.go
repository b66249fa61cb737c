package natstest

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"medagent/internal/testport"
	"medagent/tlsconf/tlstest"
)

// User is an MQTT user: the RFC 2253 subject of its client certificate
// (e.g. "CN=MA-0001") and the NATS subjects it may publish and subscribe
// to (MQTT topic a/b/c is subject a.b.c).
type User struct {
	Name      string
	Publish   []string
	Subscribe []string
}

// DeviceUser may publish under medagent/v1/<id>/ and read only its own
// command topic.
func DeviceUser(id string) User {
	return User{
		Name:    "CN=" + id,
		Publish: []string{"medagent.v1." + id + ".>"},
		// An MQTT "#" filter also matches its parent level.
		Subscribe: []string{"medagent.v1." + id + ".cmd", "medagent.v1." + id + ".cmd.>"},
	}
}

// MonitorUser is the back end: it reads everything under medagent/v1 and
// may send commands.
func MonitorUser() User {
	return User{
		Name:      "CN=" + tlstest.MonitorName,
		Publish:   []string{"medagent.v1.*.cmd.>"},
		Subscribe: []string{"medagent.v1", "medagent.v1.>"},
	}
}

// Options shape a cluster.
type Options struct {
	Nodes int    // default 3
	Users []User // default: DeviceUser of the PKI's device and MonitorUser
	// MaxAckPending bounds the QoS 1 messages in flight to one subscriber
	// (the server's mqtt.max_ack_pending); 0 keeps the server's default.
	MaxAckPending int
}

// Cluster is a running NATS cluster.
type Cluster struct {
	Nodes []*Node
	t     testing.TB
}

// Node is one nats-server process.
type Node struct {
	Name    string
	MQTTURL string // tls://127.0.0.1:port
	Addr    string // 127.0.0.1:port of the MQTT listener

	bin, conf, health, varz string
	t                       testing.TB
	mu                      sync.Mutex
	cmd                     *exec.Cmd
	done                    chan struct{}
	log                     lockedBuffer
}

// Start builds (once) and starts a cluster with the PKI in pkiDir (the
// layout of tlstest.WritePKI), and waits until every node reports healthy.
// The nodes are killed when the test ends; their logs are printed if it
// failed.
func Start(t testing.TB, pkiDir string, o Options) *Cluster {
	t.Helper()
	bin, err := Binary(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if o.Nodes == 0 {
		o.Nodes = 3
	}
	if o.Users == nil {
		dev, err := deviceID(pkiDir)
		if err != nil {
			t.Fatal(err)
		}
		o.Users = []User{DeviceUser(dev), MonitorUser()}
	}
	ports := make([][4]int, o.Nodes) // client, route, mqtt, http
	for i := range ports {
		for j := range ports[i] {
			if ports[i][j], err = testport.Free(); err != nil {
				t.Fatal(err)
			}
		}
	}
	dir := t.TempDir()
	c := &Cluster{t: t}
	for i := range o.Nodes {
		n := &Node{Name: fmt.Sprintf("n%d", i+1), bin: bin, t: t}
		n.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[i][2]))
		n.MQTTURL = "tls://" + n.Addr
		n.health = fmt.Sprintf("http://127.0.0.1:%d/healthz", ports[i][3])
		n.varz = fmt.Sprintf("http://127.0.0.1:%d/varz", ports[i][3])
		ndir := filepath.Join(dir, n.Name)
		if err := os.MkdirAll(ndir, 0o700); err != nil {
			t.Fatal(err)
		}
		n.conf = filepath.Join(ndir, "nats.conf")
		if err := os.WriteFile(n.conf, config(n.Name, ndir, pkiDir, i, ports, o), 0o600); err != nil {
			t.Fatal(err)
		}
		c.Nodes = append(c.Nodes, n)
	}
	t.Cleanup(func() {
		for _, n := range c.Nodes {
			n.Kill()
			if t.Failed() {
				t.Logf("nats-server %s log (tail):\n%s", n.Name, tail(n.log.String(), 60))
			}
		}
	})
	for _, n := range c.Nodes {
		n.start()
	}
	c.WaitHealthy(t, 60*time.Second)
	return c
}

func config(name, dir, pkiDir string, i int, ports [][4]int, o Options) []byte {
	var b bytes.Buffer
	q := strconv.Quote
	fmt.Fprintf(&b, "server_name: %s\nlisten: \"127.0.0.1:%d\"\nhttp: \"127.0.0.1:%d\"\n", q(name), ports[i][0], ports[i][3])
	fmt.Fprintf(&b, "jetstream { store_dir: %s, max_memory_store: 64MB, max_file_store: 1GB }\n", q(filepath.Join(dir, "js")))
	var routes []string
	for j := range ports {
		if j != i {
			routes = append(routes, q(fmt.Sprintf("nats-route://127.0.0.1:%d", ports[j][1])))
		}
	}
	fmt.Fprintf(&b, "cluster { name: \"medagent\", listen: \"127.0.0.1:%d\", routes: [%s] }\n", ports[i][1], strings.Join(routes, ", "))
	// Sessions, retained and QoS 1 messages on all three nodes, so that
	// any one of them can fail.
	fmt.Fprintf(&b, "mqtt {\n  listen: \"127.0.0.1:%d\"\n  stream_replicas: %d\n", ports[i][2], min(len(ports), 3))
	if o.MaxAckPending > 0 {
		fmt.Fprintf(&b, "  max_ack_pending: %d\n", o.MaxAckPending)
	}
	fmt.Fprintf(&b, "  tls { cert_file: %s, key_file: %s, ca_file: %s, verify_and_map: true, timeout: 5 }\n}\n",
		q(filepath.Join(pkiDir, tlstest.BrokerCertFile)), q(filepath.Join(pkiDir, tlstest.BrokerKeyFile)), q(filepath.Join(pkiDir, tlstest.CAFile)))
	fmt.Fprintf(&b, "authorization { users: [\n")
	for _, u := range o.Users {
		fmt.Fprintf(&b, "  { user: %s, allowed_connection_types: [\"MQTT\"], permissions: { publish: %s, subscribe: %s } }\n",
			q(u.Name), list(u.Publish), list(u.Subscribe))
	}
	fmt.Fprintf(&b, "] }\n")
	return b.Bytes()
}

func list(s []string) string {
	var q []string
	for _, x := range s {
		q = append(q, strconv.Quote(x))
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// URLs returns the MQTT URLs of all nodes, in node order.
func (c *Cluster) URLs() []string {
	var u []string
	for _, n := range c.Nodes {
		u = append(u, n.MQTTURL)
	}
	return u
}

// Node returns the node whose MQTT URL is url, or nil.
func (c *Cluster) Node(url string) *Node {
	for _, n := range c.Nodes {
		if n.MQTTURL == url {
			return n
		}
	}
	return nil
}

// WaitHealthy waits until every running node answers its health check
// (JetStream included).
func (c *Cluster) WaitHealthy(t testing.TB, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for _, n := range c.Nodes {
		if !n.Running() {
			continue
		}
		for !n.Healthy() {
			if time.Now().After(deadline) {
				t.Fatalf("natstest: node %s not healthy after %v", n.Name, timeout)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// Healthy says whether the node answers its health check with 200.
func (n *Node) Healthy() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, n.health, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Varz is the part of the node's /varz monitoring the benches read.
type Varz struct {
	InMsgs      int64   `json:"in_msgs"`
	OutMsgs     int64   `json:"out_msgs"`
	Connections int     `json:"connections"`
	Mem         int64   `json:"mem"`
	CPU         float64 `json:"cpu"`
}

// Varz reads the node's /varz.
func (n *Node) Varz() (Varz, error) {
	var v Varz
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, n.varz, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return v, fmt.Errorf("natstest: varz of %s: %w", n.Name, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return v, fmt.Errorf("natstest: varz of %s: %w", n.Name, err)
	}
	return v, nil
}

func (n *Node) start() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd != nil {
		return
	}
	cmd := exec.Command(n.bin, "-c", n.conf)
	cmd.Stdout, cmd.Stderr = &n.log, &n.log
	if err := cmd.Start(); err != nil {
		n.t.Fatalf("natstest: start %s: %v", n.Name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	n.cmd, n.done = cmd, done
}

// Kill ends the node with SIGKILL, as a crash would, and waits for it.
func (n *Node) Kill() { n.signal(syscall.SIGKILL) }

// Stop ends the node with SIGTERM (a clean shutdown) and waits for it.
func (n *Node) Stop() { n.signal(syscall.SIGTERM) }

func (n *Node) signal(sig syscall.Signal) {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.cmd = nil
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

// Restart starts a stopped node again on the same ports and store.
func (n *Node) Restart() { n.start() }

// Running says whether the node's process is running.
func (n *Node) Running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cmd != nil
}

// Log returns what the node printed so far.
func (n *Node) Log() string { return n.log.String() }

func deviceID(pkiDir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(pkiDir, tlstest.DeviceCertFile))
	if err != nil {
		return "", fmt.Errorf("natstest: device certificate (write it with tlstest.WritePKI): %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return "", fmt.Errorf("natstest: %s: no PEM block", tlstest.DeviceCertFile)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return "", fmt.Errorf("natstest: %s: %w", tlstest.DeviceCertFile, err)
	}
	return c.Subject.CommonName, nil
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 8<<20 {
		return len(p), nil // bounded: a chatty node cannot fill memory
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func tail(s string, lines int) string {
	l := strings.Split(s, "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}
