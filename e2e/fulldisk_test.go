package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"medagent/senml"
	"medagent/spool"
	"medagent/spool/spooltest"
	"medagent/uplink/mosquittotest"
)

// topicLog is what a receiver saw on one topic: payload per seq,
// duplicates, and the resolved records.
type topicLog struct {
	seqs map[uint64][]byte
	dups int
	recs [][]senml.Entry // per first arrival
}

func (l *topicLog) max() uint64 {
	var m uint64
	for q := range l.seqs {
		m = max(m, q)
	}
	return m
}

func (l *topicLog) missing() []uint64 {
	var out []uint64
	for q := uint64(1); q <= l.max(); q++ {
		if _, ok := l.seqs[q]; !ok {
			out = append(out, q)
		}
	}
	return out
}

// byTopic decodes every SenML message by topic (status and commands left
// out).
func byTopic(t *testing.T, msgs []mosquittotest.Message) map[string]*topicLog {
	t.Helper()
	out := map[string]*topicLog{}
	for _, m := range msgs {
		if strings.HasSuffix(m.Topic, "/status") || strings.Contains(m.Topic, "/cmd") {
			continue
		}
		res, err := senml.Decode(m.Payload, senml.JSON)
		if err != nil || !res.HasSeq {
			t.Fatalf("%s: not a SenML pack with seq (%v): %s", m.Topic, err, m.Payload)
		}
		l := out[m.Topic]
		if l == nil {
			l = &topicLog{seqs: map[uint64][]byte{}}
			out[m.Topic] = l
		}
		if prev, ok := l.seqs[res.Seq]; ok {
			if !bytes.Equal(prev, m.Payload) {
				t.Errorf("%s: seq %d arrived twice with different payloads", m.Topic, res.Seq)
			}
			l.dups++
			continue
		}
		l.seqs[res.Seq] = m.Payload
		l.recs = append(l.recs, res.Records)
	}
	return out
}

// lossReport is one event of the spool's report stream, as received.
type lossReport struct {
	cond, reason, class, stream string
	first, last, records        uint64
}

func lossReports(t *testing.T, l *topicLog) []lossReport {
	t.Helper()
	if l == nil {
		return nil
	}
	var out []lossReport
	for _, recs := range l.recs {
		var r lossReport
		for _, e := range recs {
			name := e.Name[strings.LastIndex(e.Name, ":")+1:]
			switch {
			case e.String != nil && name == "event/condition":
				r.cond = *e.String
			case e.String != nil && name == "event/reason":
				r.reason = *e.String
			case e.String != nil && name == "event/class":
				r.class = *e.String
			case e.String != nil && name == "event/stream":
				r.stream = *e.String
			case e.Value != nil && name == "event/seq_first":
				r.first = uint64(*e.Value)
			case e.Value != nil && name == "event/seq_last":
				r.last = uint64(*e.Value)
			case e.Value != nil && name == "event/records":
				r.records = uint64(*e.Value)
			}
		}
		out = append(out, r)
	}
	return out
}

// TestFullDiskNothingLostUnreported runs the agent with its spool on a
// 4 MiB tmpfs while the broker is away for 45 s and another file takes
// every block the file system frees, while the simulated patient's heart
// rate crosses the alarm limits. When the broker comes back, the disk
// still full (the filler goes on until the backlog is drained): every alarm
// and every event arrives (seqs complete), telemetry that could not be
// kept is missing only where a loss report on events/spool says so (with
// both evictions and refusals), the backlog drains, and duplicates stay
// within one in-flight window per topic.
func TestFullDiskNothingLostUnreported(t *testing.T) {
	t.Parallel()
	spooltest.RunInSmallFS(t, 4<<20, func(t *testing.T, fs string) {
		r := newRig(t, "tls://127.0.0.1:1")
		r.spoolDir = filepath.Join(fs, "spool")
		r.spoolYAML = "  segment_bytes: 65536\n  reserve_bytes: 262144\n"
		// Heart rate above 150 (high priority) and back, every 15 s; a
		// 5 s clearing delay (the default is 20 s) so that the alarms
		// clear within the 15 s back at 72.
		r.extraYAML = `sim:
  changes:
    - {at: 5s, ramp: 2s, heart_rate: 165}
    - {at: 20s, ramp: 2s, heart_rate: 72}
    - {at: 35s, ramp: 2s, heart_rate: 165}
alarms:
  hr:
    clear_delay: 5s
`
		b := mosquittotest.StartWithOptions(t, r.pki, mosquittotest.Options{Persistence: true})
		r.writeConfig(t, b.URL)
		mon := mosquittotest.Subscribe(t, b, r.pki, "medagent/v1/#", mosquittotest.MonitorOptions{Persistent: "e2e-fulldisk"})
		p := r.start(t, agentBin)
		mon.WaitFor(t, 30*time.Second, "first packs", func(ms []mosquittotest.Message) bool {
			return len(byTopic(t, ms)) >= 3
		})
		b.Stop()

		// Another process takes every block that comes free.
		filler := filepath.Join(fs, "filler")
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			for {
				if _, err := spooltest.Fill(filler, 0); err != nil {
					t.Errorf("filler: %v", err)
					return
				}
				select {
				case <-stop:
					return
				case <-time.After(200 * time.Millisecond):
				}
			}
		})
		time.Sleep(45 * time.Second)
		st, err := spool.ReadStats(r.spoolDir)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("spool after the outage: %+v, reserve %d", st.Classes, st.ReserveBytes)
		// The broker comes back while the disk is still full (the
		// filler goes on): the uplink must still drain the backlog and
		// keep its cursor (written in place), without a resend storm.
		b.Restart()
		restarted := time.Now()
		deadline := time.Now().Add(60 * time.Second)
		for {
			if n, _ := r.pending(t); n == 0 {
				break
			}
			if time.Now().After(deadline) {
				n, _ := r.pending(t)
				t.Fatalf("%d records still pending 60 s after the broker came back to a device with a full disk", n)
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("backlog drained %v after the broker came back, the disk still full", time.Since(restarted).Round(10*time.Millisecond))
		close(stop)
		wg.Wait()
		if err := os.Remove(filler); err != nil {
			t.Fatal(err)
		}
		p.stop(t)
		r.drain(t)
		mon.Sync(t, syncTopic) // the last PUBLISHes reach the monitor

		topics := byTopic(t, mon.Messages())
		prefix := "medagent/v1/" + deviceID + "/"
		reports := lossReports(t, topics[prefix+"events/spool"])
		var names []string
		for topic := range topics {
			names = append(names, strings.TrimPrefix(topic, prefix))
		}
		sort.Strings(names)
		t.Logf("%d loss reports: %+v", len(reports), reports)
		alarms := 0
		for _, name := range names {
			l := topics[prefix+name]
			t.Logf("%-16s %4d received, %3d missing of 1..%d, %2d duplicates", name, len(l.seqs), len(l.missing()), l.max(), l.dups)
		}
		for topic, l := range topics {
			name := strings.TrimPrefix(topic, prefix)
			if l.dups > 32 {
				t.Errorf("%s: %d duplicates, more than one in-flight window (32)", name, l.dups)
			}
			switch {
			case strings.HasPrefix(name, "alarms/"), strings.HasPrefix(name, "events/"):
				if m := l.missing(); len(m) > 0 {
					t.Errorf("%s: seqs %v missing of 1..%d: alarms and events must all arrive", name, m, l.max())
				}
				if strings.HasPrefix(name, "alarms/") {
					alarms += len(l.seqs)
				}
			case strings.HasPrefix(name, "telemetry/"):
				stream := strings.TrimPrefix(name, "telemetry/")
				for _, q := range l.missing() {
					covered := false
					for _, rp := range reports {
						covered = covered || rp.class == "telemetry" && rp.stream == stream && rp.first <= q && q <= rp.last
					}
					if !covered {
						t.Errorf("%s: seq %d missing and in no loss report", name, q)
					}
				}
			}
		}
		if alarms < 4 {
			t.Errorf("%d alarm packs arrived; the heart rate schedule should raise and clear at least 4 times", alarms)
		}
		conds := map[string]bool{}
		for _, rp := range reports {
			if rp.reason != spool.ReasonDiskFull || rp.class != "telemetry" {
				t.Errorf("loss report %+v: only telemetry may be lost, for a full disk", rp)
			}
			conds[rp.cond] = true
		}
		if !conds[spool.CondEvicted] || !conds[spool.CondRefused] {
			t.Errorf("loss reports %+v: want both evictions and refusals (the disk filled)", reports)
		}
		if n := strings.Count(p.log.String(), "uplink: connected"); n > 4 {
			t.Errorf("the uplink connected %d times: a reconnect storm", n)
		}
	})
}
