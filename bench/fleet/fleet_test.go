//go:build fleetbench

package fleet

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"medagent/handoff"
	"medagent/mender"
	"medagent/mender/mendertest"
	"medagent/spool"
	"medagent/telemetry"
	"medagent/tlsconf"
	"medagent/tlsconf/tlstest"
	"medagent/update/artifact"
	"medagent/uplink"
	"medagent/uplink/natstest"
)

var (
	nDevices    = flag.Int("n", 100, "devices")
	outage      = flag.Duration("outage", 30*time.Second, "how long the whole cluster is down")
	steady      = flag.Duration("steady", 30*time.Second, "the steady-state measurement")
	connectRate = flag.Int("rate", 20, "the devices' fleet_connect_rate (connects a second the cluster is said to take)")
	spoolIn     = flag.String("spool", "/dev/shm", "where the N spools go: on tmpfs an fsync costs nothing, so that the bench measures the uplinks and the cluster, not N devices' worth of fsyncs on one disk")
)

type device struct {
	id string
	w  *spool.Writer
	r  *spool.Reader
	up *uplink.Uplink
	n  int // packs appended
}

func TestFleet(t *testing.T) {
	N := *nDevices
	dir := t.TempDir()
	quiet := slog.New(slog.DiscardHandler)
	errs := &failCounter{}
	upLog := slog.New(errs)
	p, err := tlstest.WritePKI(filepath.Join(dir, "pki"), "MA-BENCH")
	if err != nil {
		t.Fatal(err)
	}
	devs := make([]*device, N)
	users := []natstest.User{natstest.MonitorUser()}
	for i := range devs {
		id := fmt.Sprintf("MA-%05d", i)
		if _, err := p.CA.Issue("dev-"+id, tlstest.Options{CommonName: id}); err != nil {
			t.Fatal(err)
		}
		users = append(users, natstest.DeviceUser(id))
		devs[i] = &device{id: id}
	}
	c := natstest.Start(t, p.Dir, natstest.Options{Users: users})
	// The back end's session creates the MQTT streams on all three nodes.
	natstest.Subscribe(t, p.Dir, c.URLs(), "backend", "medagent/v1/+/status")

	spoolDir, err := os.MkdirTemp(*spoolIn, "medagent-bench-fleet-")
	if err != nil {
		t.Fatalf("spool directory: %v (set -spool)", err)
	}
	defer os.RemoveAll(spoolDir)
	rss0 := rssKiB()
	for _, d := range devs {
		o := spool.Options{Dir: filepath.Join(spoolDir, d.id), ReserveBytes: 64 << 10, Logger: quiet}
		if d.w, err = spool.OpenWriter(o); err != nil {
			t.Fatal(err)
		}
		if d.r, err = spool.OpenReader(o); err != nil {
			t.Fatal(err)
		}
		d.up, err = uplink.New(uplink.Options{Brokers: c.URLs(), DeviceID: d.id, FleetSize: N, FleetConnectRate: *connectRate,
			TLS: tlsconf.Options{CAFile: p.CA.CertFile, CertFile: filepath.Join(p.Dir, "dev-"+d.id+".pem"), KeyFile: filepath.Join(p.Dir, "dev-"+d.id+".key")},
		}, d.r, upLog)
		if err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
		for _, d := range devs {
			d.r.Close()
			d.w.Close()
		}
	}()
	start := time.Now()
	for _, d := range devs {
		wg.Go(func() { d.up.Run(ctx) })
	}
	// Acquisition: one vitals pack a second per device.
	var pmu sync.Mutex
	wg.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			pmu.Lock()
			for _, d := range devs {
				pk := telemetry.Pack{Stream: "vitals", Class: telemetry.ClassTelemetry, Time: time.Now(), Records: []telemetry.Record{
					{Name: "MDC_ECG_HEART_RATE", Unit: "1/min", Value: telemetry.V(72)},
					{Name: "MDC_PULS_OXIM_SAT_O2", Unit: "%", Value: telemetry.V(97)}}}
				b, _ := pk.Marshal()
				if _, err := d.w.Append(ctx, pk.Class, pk.Stream, pk.Time, b); err == nil {
					d.n++
				}
			}
			pmu.Unlock()
		}
	})
	connected := func() int {
		k := 0
		for _, d := range devs {
			if d.up.Status().Connected {
				k++
			}
		}
		return k
	}
	waitAll(t, "first connect", 10*time.Minute, func() bool { return connected() == N })
	firstConnect := time.Since(start)

	// Steady state.
	time.Sleep(5 * time.Second)
	acked := func() uint64 {
		var a uint64
		for _, d := range devs {
			a += d.up.Status().Acked
		}
		return a
	}
	produced := func() int {
		pmu.Lock()
		defer pmu.Unlock()
		k := 0
		for _, d := range devs {
			k += d.n
		}
		return k
	}
	in0, a0, p0 := inMsgs(t, c), acked(), produced()
	c0, t0 := cpuTime(), time.Now()
	time.Sleep(*steady)
	in1, a1, p1 := inMsgs(t, c), acked(), produced()
	c1, t1 := cpuTime(), time.Now()
	producedPerSec := float64(p1-p0) / t1.Sub(t0).Seconds()
	msgsPerSec := float64(in1-in0) / t1.Sub(t0).Seconds()
	if in0 < 0 || in1 < 0 {
		msgsPerSec = -1
	}
	ackedPerSec := float64(a1-a0) / t1.Sub(t0).Seconds()
	cpuPerDev := (c1 - c0).Seconds() / t1.Sub(t0).Seconds() / float64(N) * 100
	rssPerDev := float64(rssKiB()-rss0) / float64(N)

	// Full cluster restart.
	for _, n := range c.Nodes {
		n.Kill()
	}
	time.Sleep(*outage)
	before, attempts0 := totalConnects(devs), totalAttempts(devs)
	errs.reset()
	restart := time.Now()
	for _, n := range c.Nodes {
		n.Restart()
	}
	perSec, triesPerSec := map[int]int{}, map[int]int{}
	last, lastTries := before, totalAttempts(devs)
	for connected() < N {
		time.Sleep(100 * time.Millisecond)
		now, tries := totalConnects(devs), totalAttempts(devs)
		sec := int(time.Since(restart).Seconds())
		perSec[sec] += int(now - last)
		triesPerSec[sec] += int(tries - lastTries)
		last, lastTries = now, tries
		if time.Since(restart) > 10*time.Minute {
			t.Fatalf("%d of %d reconnected 10 min after the restart", connected(), N)
		}
	}
	allBack := time.Since(restart)
	attemptsAfter := totalAttempts(devs) - attempts0
	connectsAfter := totalConnects(devs) - before
	var waits []time.Duration
	for _, d := range devs {
		waits = append(waits, d.up.Status().ConnackWait)
	}
	slices.Sort(waits)
	kinds, failures := errs.top(8)
	peak, peakAt := 0, 0
	for s, k := range perSec {
		if k > peak {
			peak, peakAt = k, s
		}
	}
	total := produced()
	waitAll(t, "backlog acked", 10*time.Minute, func() bool { return acked() >= uint64(total) })
	drained := time.Since(restart)

	menderWarns := &failCounter{any: true}
	deployTime, deployed := deployAll(t, dir, N, slog.New(menderWarns))

	load, _ := os.ReadFile("/proc/loadavg")
	t.Logf("RESULT N=%d (load average at the end: %s)", N, strings.TrimSpace(string(load)))
	t.Logf("RESULT first connect of all:            %v", firstConnect.Round(time.Millisecond))
	t.Logf("RESULT records published and PUBACKed:  %.0f/s (%.0f/s appended by %d devices at 1 pack/s)", ackedPerSec, producedPerSec, N)
	t.Logf("RESULT broker-side messages in:          %.0f/s (in_msgs summed over the 3 nodes: MQTT publishes plus JetStream's own replication and API traffic)", msgsPerSec)
	t.Logf("RESULT uplink CPU per device:            %.3f %% of a core", cpuPerDev)
	t.Logf("RESULT uplink RSS per device:            %.0f KiB (process %d KiB)", rssPerDev, rssKiB())
	t.Logf("RESULT full restart after %v outage:    all %d back in %v, peak %d connects in second %d, %d s with connects; backlog drained %v after the restart",
		*outage, N, allBack.Round(time.Millisecond), peak, peakAt, len(perSec), drained.Round(time.Millisecond))
	t.Logf("RESULT connects per second after restart: %v", histogram(perSec))
	t.Logf("RESULT attempts per second after restart: %v", histogram(triesPerSec))
	t.Logf("RESULT after the restart: %d attempts, %d connects, %d failed attempts or broken sessions:", attemptsAfter, connectsAfter, failures)
	for _, k := range kinds {
		t.Logf("RESULT     %s", k)
	}
	t.Logf("RESULT CONNACK wait of the reconnects (TLS up to CONNACK): median %v, 90th %v, max %v (return window %v)",
		waits[len(waits)/2].Round(time.Millisecond), waits[len(waits)*9/10].Round(time.Millisecond), waits[len(waits)-1].Round(time.Millisecond),
		min(time.Duration(float64(N)/float64(*connectRate)*float64(time.Second)), 25*time.Second))
	t.Logf("RESULT deployment of one artifact:       %d of %d success in the server's view after %v", deployed, N, deployTime.Round(time.Millisecond))
	mk, mn := menderWarns.top(8)
	t.Logf("RESULT Mender client warnings (accept, polls and the deployment): %d", mn)
	for _, k := range mk {
		t.Logf("RESULT     %s", k)
	}
}

func histogram(m map[int]int) string {
	var b strings.Builder
	for s := 0; s <= 600; s++ {
		if k, ok := m[s]; ok && k > 0 {
			fmt.Fprintf(&b, "%ds:%d ", s, k)
		}
	}
	return b.String()
}

func totalConnects(devs []*device) uint64 {
	var k uint64
	for _, d := range devs {
		k += d.up.Status().Connects
	}
	return k
}

func totalAttempts(devs []*device) uint64 {
	var k uint64
	for _, d := range devs {
		k += d.up.Status().Attempts
	}
	return k
}

func inMsgs(t *testing.T, c *natstest.Cluster) int64 {
	var sum int64
	for _, n := range c.Nodes {
		var v natstest.Varz
		var err error
		for try := 0; try < 5; try++ {
			if v, err = n.Varz(); err == nil {
				break
			}
			time.Sleep(time.Second) // a node busy with 1000 connections may drop the request
		}
		if err != nil {
			t.Logf("RESULT (varz of %s unavailable: %v)", n.Name, err)
			return -1
		}
		sum += v.InMsgs
	}
	return sum
}

func waitAll(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v", what, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func rssKiB() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			f := strings.Fields(l)
			k, _ := strconv.ParseInt(f[1], 10, 64)
			return k
		}
	}
	return 0
}

// benchInstaller stands for acquire: it takes the artifact and reports
// success at the second look.
type benchInstaller struct {
	dir  string
	mu   sync.Mutex
	seen map[string]int
}

func (b *benchInstaller) WorkDir() string { return b.dir }

func (b *benchInstaller) Submit(_ context.Context, it handoff.Item) (string, error) {
	os.Remove(it.File)
	b.mu.Lock()
	defer b.mu.Unlock()
	id := fmt.Sprintf("item-%d", len(b.seen)+1)
	b.seen[id] = 0
	return id, nil
}

func (b *benchInstaller) State(id string) (handoff.State, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seen[id]++
	if b.seen[id] > 1 {
		return handoff.State{ID: id, Phase: handoff.Success}, nil
	}
	return handoff.State{ID: id, Phase: handoff.Installing}, nil
}

type benchDevice struct{ name string }

func (d *benchDevice) Provides() (map[string]string, error) {
	return map[string]string{"device_type": "bedside", "artifact_name": d.name}, nil
}

func (d *benchDevice) Inventory() ([]mender.Attribute, error) {
	return []mender.Attribute{{Name: "device_type", Value: "bedside"}, {Name: "artifact_name", Value: d.name}}, nil
}

// deployAll runs N Mender clients against the spec-built server, deploys
// one artifact and waits until the server shows success for all.
func deployAll(t *testing.T, dir string, N int, log *slog.Logger) (time.Duration, int) {
	srv := mendertest.Start(t, mendertest.Options{AcceptAll: true, PostNext: true})
	ca := filepath.Join(dir, "mender-ca.pem")
	if err := srv.WriteCA(ca); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, "update.key")
	if out, err := exec.Command("openssl", "ecparam", "-genkey", "-name", "prime256v1", "-noout", "-out", key).CombinedOutput(); err != nil {
		t.Fatalf("openssl: %v %s", err, out)
	}
	pub := filepath.Join(dir, "update.pub")
	if out, err := exec.Command("openssl", "ec", "-in", key, "-pubout", "-out", pub).CombinedOutput(); err != nil {
		t.Fatalf("openssl: %v %s", err, out)
	}
	keys, err := artifact.LoadPublicKeys(pub)
	if err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "rootfs.ext4")
	b := make([]byte, 256<<10)
	rand.Read(b)
	os.WriteFile(img, b, 0o600)
	art := filepath.Join(dir, "release-2.mender")
	if out, err := exec.Command("mender-artifact", "write", "rootfs-image", "-f", img, "-n", "release-2", "-t", "bedside", "-o", art, "-k", key).CombinedOutput(); err != nil {
		t.Fatalf("mender-artifact: %v %s", err, out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	for i := range N {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		wd := filepath.Join(dir, "mender", strconv.Itoa(i))
		os.MkdirAll(wd, 0o750)
		c, err := mender.New(mender.Options{ServerURL: srv.URL, CAFile: ca, StateDir: filepath.Join(wd, "state"),
			PollInterval: 5 * time.Second, RetryMin: time.Second, RetryMax: 30 * time.Second},
			fmt.Sprintf("MA-%05d", i), k, keys, &benchInstaller{dir: wd, seen: map[string]int{}}, &benchDevice{name: "release-1"}, log)
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { c.Run(ctx) })
	}
	// Everyone is accepted and has polled once before the deployment.
	waitAll(t, "mender devices known", 5*time.Minute, func() bool { return len(srv.Devices()) == N })
	time.Sleep(6 * time.Second)
	start := time.Now()
	srv.Deploy(mendertest.Deployment{ID: "dep-fleet", ArtifactName: "release-2", DeviceTypes: []string{"bedside"}, File: art})
	done := 0
	for time.Since(start) < 10*time.Minute {
		done = 0
		for _, d := range srv.Devices() {
			if s := d.Statuses["dep-fleet"]; len(s) > 0 && s[len(s)-1] == "success" {
				done++
			}
		}
		if done == N {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if v := srv.Violations(); len(v) > 0 {
		t.Errorf("%d spec violations, first: %s", len(v), v[0])
	}
	return time.Since(start), done
}

// failCounter is the uplinks' logger: it counts the failed attempts and
// broken sessions by kind and drops everything else.
type failCounter struct {
	// any counts every warning by message and error (the Mender clients'
	// log), not only the uplinks' failed attempts.
	any   bool
	mu    sync.Mutex
	kinds map[string]int
}

func (f *failCounter) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (f *failCounter) WithAttrs([]slog.Attr) slog.Handler           { return f }
func (f *failCounter) WithGroup(string) slog.Handler                { return f }

// noise strips addresses and numbers from an error, so that errors of one
// kind count together.
var noise = regexp.MustCompile(`(tls://)?[0-9.]+:[0-9]+(->[0-9.]+:[0-9]+)?|[0-9][0-9.]*(ms|s|µs)?`)

func (f *failCounter) Handle(_ context.Context, r slog.Record) error {
	if f.any {
		var e string
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "err" || a.Key == "reason" {
				e = a.Value.String()
			}
			return true
		})
		f.count(r.Message + ": " + noise.ReplaceAllString(e, "N"))
		return nil
	}
	if !strings.Contains(r.Message, "disconnected, will retry") {
		return nil
	}
	var e string
	var connected bool
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "err":
			e = a.Value.String()
		case "connected_for":
			connected = a.Value.Duration() > 0
		}
		return true
	})
	var kind string
	switch {
	case connected:
		kind = "session broke after CONNACK: " + noise.ReplaceAllString(e, "N")
	case strings.Contains(e, "no CONNACK within"):
		kind = "CONNECT held past connack_timeout, given up"
	case strings.Contains(e, "CONNECT held"):
		kind = "CONNECT held, then: " + noise.ReplaceAllString(e[strings.Index(e, "then:")+len("then:"):], "N")
	default:
		kind = noise.ReplaceAllString(e, "N")
	}
	f.count(kind)
	return nil
}

func (f *failCounter) count(kind string) {
	if len(kind) > 160 {
		kind = kind[:160]
	}
	f.mu.Lock()
	if f.kinds == nil {
		f.kinds = map[string]int{}
	}
	f.kinds[kind]++
	f.mu.Unlock()
}

func (f *failCounter) reset() {
	f.mu.Lock()
	f.kinds = nil
	f.mu.Unlock()
}

// top returns the n most frequent kinds with their counts, and the total.
func (f *failCounter) top(n int) ([]string, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	type kc struct {
		k string
		c int
	}
	var l []kc
	total := 0
	for k, c := range f.kinds {
		l = append(l, kc{k, c})
		total += c
	}
	slices.SortFunc(l, func(a, b kc) int { return b.c - a.c })
	var out []string
	for i := 0; i < len(l) && i < n; i++ {
		out = append(out, fmt.Sprintf("%d × %s", l[i].c, l[i].k))
	}
	return out, total
}
