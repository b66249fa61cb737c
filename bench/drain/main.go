// Command drain measures how long the real agent takes to send a backlog
// once the broker comes back: the spool holds --backlog of what the agent
// spools (its own packs, captured from a short run of the acquire role and
// repeated once a second), the uplink role runs while mosquitto is away for
// --down (long enough for the reconnect backoff to reach its cap), then
// mosquitto starts again. The time is from the broker's start to the last
// record acknowledged (nothing pending in the spool): reconnect (backoff,
// the uplink's TCP probe, TLS, MQTT) plus the drain itself.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"medagent/bench/internal/benchrig"
	"medagent/spool"
	"medagent/telemetry"
)

func main() {
	agent := flag.String("agent", "bin/medagent-sim-linux-amd64", "agent binary (the bench build)")
	backlog := flag.Duration("backlog", 10*time.Minute, "how much of the agent's output waits in the spool")
	down := flag.Duration("down", 60*time.Second, "how long the broker is away while the uplink runs")
	flag.Parse()
	if err := run(*agent, *backlog, *down); err != nil {
		fmt.Fprintln(os.Stderr, "drain:", err)
		os.Exit(1)
	}
}

func run(agent string, backlog, down time.Duration) error {
	r, err := benchrig.New("MA-DRAIN", "log: {level: info}\n")
	if err != nil {
		return err
	}
	defer r.Close()
	spoolDir := filepath.Join(r.Dir, "spool")
	key, err := os.ReadFile(filepath.Join(r.Dir, "spool.key"))
	if err != nil {
		return err
	}
	// 1. What the agent spools: a few seconds of the acquire role.
	acq := exec.Command(agent, "run", "--config", r.Config, "--role", "acquire")
	if err := acq.Start(); err != nil {
		return err
	}
	time.Sleep(4 * time.Second)
	acq.Process.Signal(syscall.SIGTERM)
	acq.Wait()
	templates, err := capture(spool.Options{Dir: spoolDir, Key: key})
	if err != nil {
		return err
	}
	// 2. The backlog: those packs once a second, for backlog.
	if err := os.RemoveAll(spoolDir); err != nil {
		return err
	}
	n, bytes, err := fill(spool.Options{Dir: spoolDir, Key: key}, templates, backlog)
	if err != nil {
		return err
	}
	fmt.Printf("backlog: %d records (%v of %d streams, %.1f MiB encrypted on disk)\n", n, backlog, len(templates), float64(bytes)/(1<<20))
	// 3. The uplink runs while the broker is away.
	r.StopBroker()
	up := exec.Command(agent, "run", "--config", r.Config, "--role", "uplink")
	var logb lockedBuilder
	up.Stdout, up.Stderr = &logb, &logb
	if err := up.Start(); err != nil {
		return err
	}
	defer func() { up.Process.Signal(syscall.SIGTERM); up.Wait() }()
	time.Sleep(down)
	// 4. The broker is back.
	start := time.Now()
	if err := r.StartBroker(); err != nil {
		return err
	}
	deadline := start.Add(5 * time.Minute)
	for {
		st, err := spool.ReadStats(spoolDir)
		if err == nil && pending(st) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d records still pending 5 minutes after the broker came back\n%s", pending(st), logb.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	total := time.Since(start)
	connected := firstConnectAfter(logb.String(), start)
	fmt.Printf("broker away %v, then: all %d records acknowledged %.2f s after it came back (goal <= 10 s)", down, n, total.Seconds())
	if !connected.IsZero() {
		fmt.Printf(": reconnected after %.2f s, drained in %.2f s", connected.Sub(start).Seconds(), total.Seconds()-connected.Sub(start).Seconds())
	}
	fmt.Println()
	return nil
}

func pending(st spool.Stats) uint64 {
	var n uint64
	for _, c := range st.Classes {
		n += c.Pending
	}
	return n
}

// capture reads what the acquire role spooled and keeps the last pack of
// every stream.
func capture(o spool.Options) ([]telemetry.Pack, error) {
	rd, err := spool.OpenReader(o)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	last := map[string]telemetry.Pack{}
	var order []string
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		rec, err := rd.Next(ctx)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			break
		}
		if err != nil {
			return nil, err
		}
		p, err := telemetry.Unmarshal(rec.Payload)
		if err != nil {
			return nil, err
		}
		k := p.Class.Topic() + "/" + p.Stream
		if _, ok := last[k]; !ok {
			order = append(order, k)
		}
		last[k] = p
	}
	var out []telemetry.Pack
	for _, k := range order {
		if last[k].Class == telemetry.ClassTelemetry {
			out = append(out, last[k])
		}
	}
	if len(out) == 0 {
		return nil, errors.New("the acquire role spooled no telemetry in 4 s")
	}
	return out, nil
}

func fill(o spool.Options, templates []telemetry.Pack, backlog time.Duration) (int, int64, error) {
	w, err := spool.OpenWriter(o)
	if err != nil {
		return 0, 0, err
	}
	n := 0
	t0 := time.Now().Add(-backlog)
	// One appender per stream, as the agent's edge stage and samplers
	// share the writer's group commit.
	var wg sync.WaitGroup
	errs := make(chan error, len(templates))
	var mu sync.Mutex
	for _, tp := range templates {
		wg.Go(func() {
			for i := range int(backlog / time.Second) {
				p := tp
				p.Time = t0.Add(time.Duration(i) * time.Second)
				b, err := p.Marshal()
				if err == nil {
					_, err = w.Append(context.Background(), p.Class, p.Stream, p.Time, b)
				}
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				n++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, 0, err
	}
	st := w.Stats()
	return n, st.DiskBytes, w.Close()
}

var timeRe = regexp.MustCompile(`time=(\S+) .*msg="uplink: connected"`)

// firstConnectAfter finds the uplink's first "connected" log line after t.
func firstConnectAfter(log string, t time.Time) time.Time {
	for _, line := range strings.Split(log, "\n") {
		m := timeRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, m[1])
		if err == nil && at.After(t) {
			return at
		}
	}
	return time.Time{}
}

type lockedBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuilder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
