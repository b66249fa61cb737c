package alarm

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

func TestDefaultsValid(t *testing.T) {
	if err := Defaults().Validate(); err != nil {
		t.Fatal(err)
	}
	d := Defaults()
	// The adult limits the team agreed on.
	for _, c := range []struct {
		name string
		got  [4]float64
		want [4]float64
	}{
		{"hr", [4]float64{d.HR.CriticalLow, d.HR.Low, d.HR.High, d.HR.CriticalHigh}, [4]float64{40, 50, 120, 150}},
		{"pr", [4]float64{d.PulseRate.CriticalLow, d.PulseRate.Low, d.PulseRate.High, d.PulseRate.CriticalHigh}, [4]float64{40, 50, 120, 150}},
		{"spo2", [4]float64{d.SpO2.CriticalLow, d.SpO2.Low, d.SpO2.High, d.SpO2.CriticalHigh}, [4]float64{85, 90, 0, 0}},
		{"temp", [4]float64{d.Temp.CriticalLow, d.Temp.Low, d.Temp.High, d.Temp.CriticalHigh}, [4]float64{0, 35, 39, 0}},
	} {
		if c.got != c.want {
			t.Errorf("%s limits = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		mod  func(*Config)
		want string
	}{
		{func(c *Config) { c.HR.High = 40 }, "alarms.hr.high: must be above alarms.hr.low (50), got 40"},
		{func(c *Config) { c.HR.CriticalHigh = 110 }, "alarms.hr.critical_high: must be above alarms.hr.high (120), got 110"},
		{func(c *Config) { c.SpO2.Low = 80 }, "alarms.spo2.low: must be above alarms.spo2.critical_low (85), got 80"},
		{func(c *Config) { c.SpO2.Low = 101 }, "alarms.spo2.low: must be 1..100 (or 0 for off), got 101"},
		{func(c *Config) { c.Temp.High = math.NaN() }, "alarms.temp.high: must be 20..50 (or 0 for off), got NaN"},
		{func(c *Config) { c.Temp = Limits{Enabled: true} }, "alarms.temp.enabled: is true but every limit is 0 (off)"},
		{func(c *Config) { c.PulseRate.Priority = 0 }, "alarms.pr.priority: must be low, medium or high"},
		{func(c *Config) { c.HR.CriticalPriority = Low }, "alarms.hr.critical_priority: must not be below alarms.hr.priority (medium), got low"},
		{func(c *Config) { c.SpO2.OnsetDelay = -time.Second }, "alarms.spo2.onset_delay: must be 0..5m0s, got -1s"},
		{func(c *Config) { c.SpO2.ClearDelay = time.Hour }, "alarms.spo2.clear_delay: must be 0..5m0s, got 1h0m0s"},
		{func(c *Config) { c.Temp.Hysteresis = -0.1 }, "alarms.temp.hysteresis: must be 0 or more, got -0.1"},
		{func(c *Config) { c.Temp.Hysteresis = 2 }, "alarms.temp.hysteresis: must be below half of alarms.temp.high - alarms.temp.low (2), got 2"},
		{func(c *Config) { c.HR.StaleAfter = time.Millisecond }, "alarms.hr.stale_after: must be 0 (off) or 1s..5m0s, got 1ms"},
		{func(c *Config) { c.Technical.PoorSignal.Priority = 4 }, "alarms.technical.poor_signal.priority: must be low, medium or high"},
		{func(c *Config) { c.Technical.LeadOff.OnsetDelay = time.Hour }, "alarms.technical.lead_off.onset_delay: must be 0..5m0s, got 1h0m0s"},
		{func(c *Config) { c.Technical.Noise.Priority = 0 }, "alarms.technical.noise.priority: must be low, medium or high"},
		{func(c *Config) { c.Asystole.Delay = 2 * time.Second }, "alarms.asystole.delay: must be 3s..10s, got 2s"},
		{func(c *Config) { c.Asystole.Delay = 11 * time.Second }, "alarms.asystole.delay: must be 3s..10s, got 11s"},
		{func(c *Config) { c.Asystole.ClearDelay = -time.Second }, "alarms.asystole.clear_delay: must be 0..1m, got -1s"},
		{func(c *Config) { c.Pause.Limit = time.Second }, "alarms.pause.limit: must be 1.5s..10s, got 1s"},
		{func(c *Config) { c.Pause.Priority = 0 }, "alarms.pause.priority: must be low, medium or high"},
		{func(c *Config) { c.Pause.ClearDelay = time.Hour }, "alarms.pause.clear_delay: must be 0..5m0s, got 1h0m0s"},
	} {
		cfg := Defaults()
		c.mod(&cfg)
		err := cfg.Validate()
		var fe *FieldError
		if err == nil || err.Error() != c.want || !errors.As(err, &fe) || !strings.HasPrefix(c.want, fe.Key+": ") {
			t.Errorf("Validate() = %v, want %s", err, c.want)
		}
		if _, err := New(cfg); err == nil || !strings.HasPrefix(err.Error(), "alarm: ") {
			t.Errorf("New accepted a bad config (%s): %v", c.want, err)
		}
	}
	// Off limits and a disabled vital are fine.
	cfg := Defaults()
	cfg.HR.CriticalHigh, cfg.HR.CriticalLow = 0, 0
	cfg.Temp = Limits{}
	cfg.Pause = PauseAlarm{}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

// TestYAML decodes the configuration strictly with yaml.v3, as the agent
// does, over the defaults.
func TestYAML(t *testing.T) {
	src := `
hr:
  enabled: true
  low: 45
  high: 130
  critical_low: 35
  critical_high: 160
  priority: medium
  critical_priority: high
  onset_delay: 8s
  clear_delay: 4s
  hysteresis: 3
  latching: true
  stale_after: 20s
spo2:
  low: 92
technical:
  poor_signal:
    priority: medium
    onset_delay: 15s
`
	cfg := Defaults()
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	want := Defaults()
	want.HR = Limits{Enabled: true, Low: 45, High: 130, CriticalLow: 35, CriticalHigh: 160,
		Priority: Medium, CriticalPriority: High, OnsetDelay: 8 * time.Second, ClearDelay: 4 * time.Second,
		Hysteresis: 3, Latching: true, StaleAfter: 20 * time.Second}
	want.SpO2.Low = 92
	want.Technical.PoorSignal.Priority = Medium
	want.Technical.PoorSignal.OnsetDelay = 15 * time.Second
	if d := cmp.Diff(want, cfg); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if err := cfg.Validate(); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{"hr:\n  priority: urgent\n", "hr:\n  lowest: 3\n"} {
		dec := yaml.NewDecoder(strings.NewReader(bad))
		dec.KnownFields(true)
		c := Defaults()
		if err := dec.Decode(&c); err == nil {
			t.Errorf("%q decoded without error", bad)
		}
	}
	// Round trip: priorities are written as words.
	var buf bytes.Buffer
	if err := yaml.NewEncoder(&buf).Encode(Defaults()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "critical_priority: high") {
		t.Errorf("encoded defaults lack the priority words:\n%s", buf.String())
	}
}
