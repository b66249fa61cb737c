package main

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"medagent/senml"
)

// monitor is the demo's subscriber: it keeps the latest value of every
// record name and checks each stream's sequence numbers for gaps.
type monitor struct {
	device string
	format senml.Format

	mu       sync.Mutex
	latest   map[string]senml.Entry
	lastSeq  map[string]uint64
	packs    int
	gaps     int
	dups     int
	bad      int
	status   string
	alarms   []string
	lastSeen time.Time
}

func newMonitor(device, format string) *monitor {
	f, _ := senml.ParseFormat(format)
	return &monitor{device: device, format: f, latest: map[string]senml.Entry{}, lastSeq: map[string]uint64{}}
}

func (m *monitor) handle(_ *mqtt.Client, _ packets.Subscription, pk packets.Packet) {
	parts := strings.Split(pk.TopicName, "/")
	if len(parts) < 4 || parts[2] != m.device {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if parts[3] == "status" {
		m.status = string(pk.Payload)
		return
	}
	if len(parts) != 5 {
		return
	}
	res, err := senml.Decode(pk.Payload, m.format)
	if err != nil {
		m.bad++
		return
	}
	key := parts[3] + "/" + parts[4]
	if last, ok := m.lastSeq[key]; ok && res.HasSeq {
		switch {
		case res.Seq <= last:
			m.dups++
			return
		case res.Seq > last+1:
			m.gaps += int(res.Seq - last - 1)
		}
	}
	m.lastSeq[key] = res.Seq
	m.packs++
	m.lastSeen = time.Now()
	prefix := "urn:dev:sn:" + m.device + ":"
	fields := map[string]string{}
	for _, e := range res.Records {
		name := strings.TrimPrefix(e.Name, prefix)
		if parts[3] == "alarms" {
			if e.String != nil {
				fields[name] = *e.String
			}
			continue
		}
		m.latest[name] = e
	}
	if parts[3] == "alarms" {
		m.alarms = append(m.alarms, fmt.Sprintf("%s %s %s (%s)", parts[4],
			fields["alarm/priority"], fields["alarm/event"], fields["alarm/condition"]))
	}
}

// vitals shown on the demo line, in order: label, record names to try.
var vitals = []struct {
	label string
	names []string
}{
	{"HR", []string{"MDC_ECG_HEART_RATE"}},
	{"SpO2", []string{"MDC_PULS_OXIM_SAT_O2"}},
	{"PR", []string{"MDC_PULS_OXIM_PULS_RATE"}},
	{"PI", []string{"MDC_PULS_OXIM_PERF_REL"}},
	{"Temp", []string{"MDC_TEMP_BODY", "MDC_TEMP_BODY/mean"}},
	{"ECG", []string{"MDC_ECG_ELEC_POTL_II/max"}},
}

func (m *monitor) line(now time.Time) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", now.Format("15:04:05"), m.device)
	for _, v := range vitals {
		for _, n := range v.names {
			if e, ok := m.latest[n]; ok && e.Value != nil {
				fmt.Fprintf(&b, "  %s %.4g %s", v.label, *e.Value, e.Unit)
				break
			}
		}
	}
	if len(m.latest) == 0 {
		b.WriteString("  (waiting for the first readings)")
	}
	fmt.Fprintf(&b, "  | packs %d gaps %d", m.packs, m.gaps)
	if n := len(m.alarms); n > 0 {
		fmt.Fprintf(&b, " | alarm: %s", m.alarms[n-1])
	}
	return b.String()
}

func (m *monitor) summary() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	streams := make([]string, 0, len(m.lastSeq))
	for k, v := range m.lastSeq {
		streams = append(streams, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(streams)
	return fmt.Sprintf("demo: received %d packs, %d sequence gaps, %d duplicates, %d undecodable, status %q; last seq: %s",
		m.packs, m.gaps, m.dups, m.bad, m.status, strings.Join(streams, " "))
}
