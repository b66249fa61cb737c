// Command load measures what CPU and I/O load does to acquisition: the real
// agent (bench build, the real drivers on the register-level simulators)
// publishes its ECG waveform at the full 500 samples/s to a local
// mosquitto while stress-ng runs CPU hogs and an I/O hog; a subscriber
// checks every ECG window and counts (and the samples lost by the parts
// that buffer, the MAX3010x and a Nonin, published at their own rates;
// parts.go):
//
//   - ECG samples lost: sample slots of a window without a valid sample
//     (the simulated patient's signal is always valid, so every missing
//     slot is a loss), and whether each received sample sits on its slot
//     (a loss must leave a hole at its own time, never shift the others);
//   - windows: missing seqs, late windows (window/late), base times that do
//     not advance by exactly one window;
//   - alarms raised: the patient is steady (HR 72, SpO2 97), so every one
//     is false, technical or physiological;
//   - base-time drift: how far the base time moved against the receiver's
//     wall clock from the first to the last minute (5th percentile of
//     receive time minus base time: delivery delays only add to it).
//
// It runs the same measurement without load first (--baseline), then
// under load (--duration).
package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"medagent/bench/internal/benchrig"
	"medagent/senml"
	"medagent/tlsconf"
	"medagent/tlsconf/tlstest"
)

func main() {
	agent := flag.String("agent", "bin/medagent-sim-linux-amd64", "agent binary (the bench build: simulated sensors)")
	dur := flag.Duration("duration", 2*time.Minute, "how long to measure under load (the goal is stated for 10m)")
	base := flag.Duration("baseline", 30*time.Second, "how long to measure without load first (0: skip)")
	cpu := flag.Int("cpu", 4, "stress-ng CPU hogs")
	io := flag.Int("io", 1, "stress-ng I/O hogs")
	warm := flag.Duration("warmup", 5*time.Second, "time after the agent starts that is not measured")
	floorDur := flag.Duration("floor", 30*time.Second, "how long to measure the machine's floor under load first: the same driver read alone on a SCHED_FIFO thread (0: skip)")
	flag.Parse()
	fmt.Printf("machine: %d CPUs; agent %s; ECG 500 samples/s, 1 s windows, waveform published at 500/s\n", numCPU(), *agent)
	if *base > 0 {
		r, err := run(*agent, *base, *warm, nil)
		if err != nil {
			fail(err)
		}
		r.print("no load")
	}
	stress := []string{"--cpu", fmt.Sprint(*cpu), "--io", fmt.Sprint(*io), "--timeout", fmt.Sprint(int((*dur + *warm + 30*time.Second).Seconds()))}
	if *floorDur > 0 {
		st := exec.Command("stress-ng", "--cpu", fmt.Sprint(*cpu), "--io", fmt.Sprint(*io), "--timeout", fmt.Sprint(int((*floorDur + 10*time.Second).Seconds())))
		if err := st.Start(); err != nil {
			fail(fmt.Errorf("start stress-ng (Debian package stress-ng, scripts/setup.sh): %w", err))
		}
		time.Sleep(time.Second)
		lost, total, rt, err := floor(*floorDur)
		st.Process.Signal(syscall.SIGINT)
		st.Wait()
		if err != nil {
			fail(err)
		}
		note := "SCHED_FIFO 50"
		if rt != nil {
			note = rt.Error()
		}
		fmt.Printf("\nmachine floor under stress-ng --cpu %d --io %d, %v: the ADS1292R driver read alone (%s) lost %d of %d frames = %.3f %%\n",
			*cpu, *io, *floorDur, note, lost, total, 100*float64(lost)/float64(max(total, 1)))
	}
	r, err := run(*agent, *dur, *warm, stress)
	if err != nil {
		fail(err)
	}
	r.print(fmt.Sprintf("stress-ng --cpu %d --io %d", *cpu, *io))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "load:", err)
	os.Exit(1)
}

func numCPU() int { return runtime.NumCPU() }

// window is one ECG telemetry pack as received.
type window struct {
	seq     uint64
	bt      float64 // base time, s
	recv    time.Time
	samples []float64 // offsets of the waveform samples, s
	late    bool
	valid   bool
}

type result struct {
	dur                 time.Duration
	windows             []window
	missingSeqs         int
	alarms              map[string]int // kind/condition -> raised
	realtime            string
	reportedLost        int // the driver's count, from the ECG's frames_lost events
	offGrid, dupSamples int
	agentLog            string
	parts               []*bufferedPart
	vitals              vitals
}

func run(agent string, dur, warm time.Duration, stress []string) (*result, error) {
	r, err := benchrig.New("MA-LOAD", partsYAML)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	tc, err := tlsconf.Client(tlsconf.Options{
		CAFile:     filepath.Join(r.PKI, tlstest.CAFile),
		CertFile:   filepath.Join(r.PKI, tlstest.MonitorCertFile),
		KeyFile:    filepath.Join(r.PKI, tlstest.MonitorKeyFile),
		ServerName: "localhost",
	})
	if err != nil {
		return nil, err
	}
	res := &result{dur: dur, alarms: map[string]int{}, parts: bufferedParts(), vitals: vitals{}}
	var mu sync.Mutex
	measuring := false
	opts := mqtt.NewClientOptions().AddBroker(fmt.Sprintf("tls://127.0.0.1:%d", r.Port)).
		SetClientID("load-monitor").SetTLSConfig(tc).SetOrderMatters(false)
	var c mqtt.Client
	for range 50 { // the broker may still be starting
		c = mqtt.NewClient(opts)
		if tok := c.Connect(); tok.WaitTimeout(5*time.Second) && tok.Error() == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !c.IsConnected() {
		return nil, fmt.Errorf("cannot connect to mosquitto on port %d", r.Port)
	}
	defer c.Disconnect(100)
	prefix := "medagent/v1/MA-LOAD/"
	c.Subscribe(prefix+"#", 1, func(_ mqtt.Client, m mqtt.Message) {
		now := time.Now()
		topic := strings.TrimPrefix(m.Topic(), prefix)
		if topic == "status" {
			return
		}
		pk, err := senml.Decode(m.Payload(), senml.JSON)
		if err != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		switch {
		case topic == "events/realtime":
			for _, e := range pk.Records {
				if strings.HasSuffix(e.Name, "event/state") && e.String != nil {
					res.realtime = *e.String
				}
			}
		case !measuring:
		case topic == "events/ecg":
			for _, e := range pk.Records {
				if strings.HasSuffix(e.Name, "event/lost") && e.Value != nil {
					res.reportedLost += int(*e.Value)
				}
			}
		case topic == "telemetry/ecg":
			res.vitals.add("ecg", pk)
			w := window{seq: pk.Seq, recv: now}
			for i, e := range pk.Records {
				name := e.Name[strings.LastIndex(e.Name, ":")+1:]
				if i == 0 {
					w.bt = e.Time
				}
				switch {
				case name == "MDC_ECG_ELEC_POTL_II" && e.Value != nil:
					w.samples = append(w.samples, e.Time-w.bt)
				case name == "window/late":
					w.late = true
				case name == "MDC_ECG_ELEC_POTL_II/valid" && e.Bool != nil:
					w.valid = *e.Bool
				}
			}
			res.windows = append(res.windows, w)
		case strings.HasPrefix(topic, "telemetry/") || strings.HasPrefix(topic, "events/"):
			for _, p := range res.parts {
				switch topic {
				case "telemetry/" + p.sensor:
					p.window(pk)
					res.vitals.add(p.sensor, pk)
				case "events/" + p.sensor:
					p.event(pk)
				}
			}
		case strings.HasPrefix(topic, "alarms/"):
			var event, kind, cond string
			for _, e := range pk.Records {
				name := e.Name[strings.LastIndex(e.Name, ":")+1:]
				if e.String == nil {
					continue
				}
				switch name {
				case "alarm/event":
					event = *e.String
				case "alarm/kind":
					kind = *e.String
				case "alarm/condition":
					cond = *e.String
				}
			}
			if event == "raised" {
				res.alarms[kind+" "+strings.TrimPrefix(topic, "alarms/")+" "+cond]++
			}
		}
	}).Wait()

	cmd := exec.Command(agent, "run", "--config", r.Config)
	var logb strings.Builder
	cmd.Stdout, cmd.Stderr = &lockedBuilder{b: &logb}, &lockedBuilder{b: &logb}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	var st *exec.Cmd
	if stress != nil {
		st = exec.Command("stress-ng", stress...)
		if err := st.Start(); err != nil {
			return nil, fmt.Errorf("start stress-ng (Debian package stress-ng, scripts/setup.sh): %w", err)
		}
		defer func() { st.Process.Signal(syscall.SIGINT); st.Wait() }()
	}
	time.Sleep(warm)
	mu.Lock()
	measuring = true
	mu.Unlock()
	time.Sleep(dur)
	mu.Lock()
	measuring = false
	mu.Unlock()
	time.Sleep(2 * time.Second) // the last windows in flight
	mu.Lock()
	defer mu.Unlock()
	res.agentLog = logb.String()
	slices.SortFunc(res.windows, func(a, b window) int { return int(a.seq) - int(b.seq) })
	return res, nil
}

type lockedBuilder struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

const rate, slotsPerWindow = 500.0, 500

func (r *result) print(label string) {
	ws := r.windows
	if len(ws) < 3 {
		fmt.Printf("%-28s only %d ECG windows received; agent log:\n%s\n", label, len(ws), r.agentLog)
		return
	}
	var slots, got, late, invalid, stepErr int
	maxStep := 0.0
	for i, w := range ws {
		slots += slotsPerWindow
		seen := map[int]bool{}
		for _, off := range w.samples {
			k := int(math.Round(off * rate))
			if math.Abs(off*rate-float64(k)) > 0.05 || k < 0 || k >= slotsPerWindow {
				r.offGrid++
				continue
			}
			if seen[k] {
				r.dupSamples++
				continue
			}
			seen[k] = true
			got++
		}
		if w.late {
			late++
		}
		if !w.valid {
			invalid++
		}
		if i > 0 {
			want := float64(w.seq - ws[i-1].seq) // one window per seq
			d := w.bt - ws[i-1].bt - want
			maxStep = math.Max(maxStep, math.Abs(d))
			if math.Abs(d) > 0.5/rate {
				stepErr++
			}
			r.missingSeqs += int(w.seq - ws[i-1].seq - 1)
		}
	}
	lost := slots - got
	var alarms []string
	total := 0
	for k, n := range r.alarms {
		alarms = append(alarms, fmt.Sprintf("%s ×%d", k, n))
		total += n
	}
	slices.Sort(alarms)
	fmt.Printf("\n%s, %v measured (realtime: %s)\n", label, r.dur, orNone(r.realtime))
	fmt.Printf("  ECG samples lost        %d of %d = %.3f %% (goal <= 0.1 %%); all holes at their own time: %d samples off their slot, %d duplicated; the driver reported %d lost (frames_lost events, every 10 s)\n",
		lost, slots, 100*float64(lost)/float64(slots), r.offGrid, r.dupSamples, r.reportedLost)
	fmt.Printf("  ECG windows             %d received, %d seqs missing, %d late, %d flagged invalid, %d base times not one window apart (max error %.1f ms)\n",
		len(ws), r.missingSeqs, late, invalid, stepErr, maxStep*1000)
	fmt.Printf("  alarms raised (false)   %d %v (goal 0)\n", total, alarms)
	fmt.Printf("  base-time drift         %.1f ms against the receiver's clock from the first to the last minute (goal <= 20 ms over 10 min)\n", drift(ws)*1000)
	for _, p := range r.parts {
		p.print()
	}
	r.vitals.print()
	if os.Getenv("LOAD_LOG") != "" {
		fmt.Println(r.agentLog)
	}
}

func orNone(s string) string {
	if s == "" {
		return "no event"
	}
	return s
}

// drift is how far the base time moved against the receiver's wall clock
// from the first to the last minute of windows (or third, if shorter):
// the change of the 5th percentile of (receive time − base time). Delivery
// delays only add to that difference, so its low end follows the clocks,
// not the load.
func drift(ws []window) float64 {
	n := min(60, len(ws)/3)
	low := func(part []window) float64 {
		d := make([]float64, len(part))
		for i, w := range part {
			d[i] = float64(w.recv.UnixNano())/1e9 - w.bt
		}
		slices.Sort(d)
		return d[len(d)/20]
	}
	return low(ws[len(ws)-n:]) - low(ws[:n])
}
