package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const minimal = `device:
  id: MA-0001
mqtt:
  broker: tls://127.0.0.1:8883
  ca_file: ca.pem
  cert_file: dev.pem
  key_file: dev.key
`

var badCases = []struct {
	name, yaml string
	line       int
	key, msg   string
}{
	{"malformed", minimal + "sim: [1, 2\n", 7, "", "malformed YAML"},
	{"tab indent", minimal + "sim:\n\tseed: 1\n", 9, "", "malformed YAML"},
	{"unknown top key", minimal + "colour: red\n", 8, "colour", "unknown key"},
	{"unknown nested key", minimal + "spool:\n  dirr: /tmp\n", 9, "spool.dirr", "unknown key"},
	{"unknown sensor key", minimal + "sensors:\n  - name: x\n    drivr: sim-ecg\n", 10, "sensors[0].drivr", "unknown key"},
	{"wrong type int", minimal + "  inflight: lots\n", 8, "mqtt.inflight", "want an integer"},
	{"wrong type duration", minimal + "edge:\n  window: 5\n", 9, "edge.window", "want a duration"},
	{"wrong type mapping", minimal + "spool: /tmp\n", 8, "spool", "want a mapping"},
	{"wrong type list", minimal + "sensors: ecg\n", 8, "sensors", "want a list"},
	{"duplicate key", minimal + "log:\n  level: info\n  level: debug\n", 10, "log.level", "duplicate key"},
	{"out of range", minimal + "sim:\n  spo2: 120\n", 9, "sim.spo2", "must be 50..100"},
	{"out of range int", minimal + "spool:\n  max_bytes: 10\n", 9, "spool.max_bytes", "must be"},
	{"spool rule is the spool's", minimal + "spool:\n  segment_bytes: 1048576\n  reserve_bytes: 10\n", 10, "spool.reserve_bytes", "not in 65536.."},
	{"audit burst below 2", minimal + "trust:\n  audit_burst: 1\n", 9, "trust.audit_burst", "must be 2..1000"},
	{"audit rate too high", minimal + "trust:\n  audit_every: 1ms\n", 9, "trust.audit_every", "must be 100ms"},
	{"audit drop sync too often", minimal + "trust:\n  audit_drop_sync: 10ms\n", 9, "trust.audit_drop_sync", "must be 100ms..1m0s"},
	{"watchdog rule is the watchdog's", minimal + "watchdog:\n  interval: 1ms\n", 9, "watchdog.interval", "must be 10ms"},
	{"reboot timeout too short", minimal + "update:\n  reboot_timeout: 5s\n", 9, "update.reboot_timeout", "must be 30s..1h0m0s"},
	{"reboot retries out of range", minimal + "update:\n  reboot_retries: 50\n", 9, "update.reboot_retries", "must be 0..10"},
	{"bad enum", minimal + "  format: xml\n", 8, "mqtt.format", "must be one of"},
	{"plain mqtt refused", strings.Replace(minimal, "tls://", "tcp://", 1), 4, "mqtt.broker", "plain MQTT is not allowed"},
	{"missing id", strings.Replace(minimal, "  id: MA-0001\n", "", 1), 1, "device.id", "is required"},
	{"bad id", strings.Replace(minimal, "MA-0001", "a/b", 1), 2, "device.id", "must be 1..64"},
	{"sensor rate", minimal + "sensors:\n  - name: ecg\n    driver: ads1292\n    rate: 100\n    bus: sim\n    drdy: sim:ads-drdy\n    spi_mode: 1\n", 11, "sensors[0].rate", "not one of 125, 250"},
	{"sensor driver", minimal + "sensors:\n  - name: ecg\n    driver: magic\n", 10, "sensors[0].driver", "unknown driver"},
	{"duplicate sensor", minimal + "sensors:\n  - {name: a, driver: tmp117, rate: 1, bus: sim, address: 0x48}\n  - {name: a, driver: tmp117, rate: 1, bus: sim, address: 0x49}\n", 10, "sensors[1].name", "duplicate sensor"},
	{"waveform of unknown stream", minimal + "edge:\n  waveforms: [eeg]\n", 9, "edge.waveforms[0]", "no sensor named"},
	{"two documents", minimal + "---\ndevice: {}\n", 8, "", "more than one YAML document"},
	{"alias", minimal + "log: &x {level: info}\nsim: *x\n", 9, "sim", "aliases are not allowed"},
}

func TestParseRefuses(t *testing.T) {
	for _, tc := range badCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("medagent.yaml", []byte(tc.yaml))
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Parse() error = %v, want *config.Error", err)
			}
			if ce.File != "medagent.yaml" || ce.Line != tc.line || ce.Key != tc.key || !strings.Contains(ce.Msg, tc.msg) {
				t.Errorf("got file=%q line=%d key=%q msg=%q\nwant line=%d key=%q msg containing %q",
					ce.File, ce.Line, ce.Key, ce.Msg, tc.line, tc.key, tc.msg)
			}
			if !strings.HasPrefix(err.Error(), "medagent.yaml:") {
				t.Errorf("error %q does not start with the file name", err)
			}
		})
	}
}

func TestParseMinimalKeepsDefaults(t *testing.T) {
	got, err := Parse("m.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Device.ID = "MA-0001"
	want.MQTT.Broker, want.MQTT.CAFile, want.MQTT.CertFile, want.MQTT.KeyFile =
		"tls://127.0.0.1:8883", "ca.pem", "dev.pem", "dev.key"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("minimal config (-want +got):\n%s", diff)
	}
}

func TestParseOverrides(t *testing.T) {
	got, err := Parse("m.yaml", []byte(minimal+"edge:\n  window: 500ms\nsensors:\n  - {name: t, driver: tmp117, rate: 2, bus: sim, address: 0x48}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Edge.Window != 500*time.Millisecond {
		t.Errorf("edge.window = %v, want 500ms", got.Edge.Window)
	}
	if len(got.Sensors) != 1 || got.Sensors[0].Name != "t" || got.Sensors[0].Rate != 2 {
		t.Errorf("sensors = %+v, want the one given (a list replaces the default list)", got.Sensors)
	}
}

// The example file documents every key and gives its default.
func TestExampleDocumentsEveryKeyWithDefault(t *testing.T) {
	path := filepath.Join("..", "configs", "medagent.example.yaml")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(path, b)
	if err != nil {
		t.Fatalf("example does not parse: %v", err)
	}
	want := Default()
	// Required keys have no default; the example shows sample values.
	want.Device.ID = got.Device.ID
	want.MQTT.Broker, want.MQTT.CAFile, want.MQTT.CertFile, want.MQTT.KeyFile =
		got.MQTT.Broker, got.MQTT.CAFile, got.MQTT.CertFile, got.MQTT.KeyFile
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("example values differ from Default() (-default +example):\n%s", diff)
	}
	for _, key := range allKeys(reflect.TypeOf(Config{}), "") {
		if !strings.Contains(string(b), key+":") {
			t.Errorf("example does not document key %q", key)
		}
	}
}

// allKeys lists the leaf key names of t (the last path element, as written in YAML).
func allKeys(t reflect.Type, prefix string) []string {
	var out []string
	for name, idx := range structFields(t) {
		f := t.FieldByIndex(idx).Type
		if f.Kind() == reflect.Slice && f.Elem().Kind() == reflect.Struct {
			f = f.Elem()
		}
		out = append(out, name)
		if f.Kind() == reflect.Struct && f != reflect.TypeOf(time.Time{}) {
			out = append(out, allKeys(f, name)...)
		}
	}
	return out
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(minimal))
	for _, tc := range badCases {
		f.Add([]byte(tc.yaml))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := Parse("fuzz.yaml", b)
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *config.Error", err)
			}
			return
		}
		if len(cfg.problems()) != 0 {
			t.Fatalf("accepted a config with problems: %v", cfg.problems())
		}
	})
}

// TestDerivedPaths: the state key and the audit trail default to the
// acquire role's other state.
func TestDerivedPaths(t *testing.T) {
	for _, c := range []struct {
		name               string
		set                func(c *Config)
		stateKey, auditDir string
	}{
		{"updates", func(c *Config) { c.Update.Enabled, c.Update.Journal = true, "/d/u/update.journal" }, "/d/u/state.key", "/d/u"},
		{"commands only", func(c *Config) { c.Commands.Enabled, c.Commands.Keyring = true, "/d/k/keyring" }, "/d/k/state.key", "/d/k"},
		{"audit dir", func(c *Config) { c.Trust.AuditDir = "/d/a"; c.Update.Enabled = true }, "/var/lib/medagent/state.key", "/d/a"},
		{"state key set", func(c *Config) {
			c.Update.StateKey = "/k/s.key"
			c.Commands.Enabled, c.Commands.Keyring = true, "/d/k/keyring"
		}, "/k/s.key", "/d/k"},
		{"neither", func(c *Config) {}, "state.key", ""},
	} {
		cfg := Default()
		c.set(&cfg)
		if got := cfg.StateKeyFile(); got != c.stateKey {
			t.Errorf("%s: state key %q, want %q", c.name, got, c.stateKey)
		}
		if got := cfg.AuditTrailDir(); got != c.auditDir {
			t.Errorf("%s: audit dir %q, want %q", c.name, got, c.auditDir)
		}
	}
	cfg := Default()
	cfg.MQTT.CAFile = "/pki/ca.pem"
	if cfg.DownloadCA() != "/pki/ca.pem" {
		t.Errorf("download CA %q", cfg.DownloadCA())
	}
	cfg.Handoff.DownloadCAFile = "/pki/cdn.pem"
	if cfg.DownloadCA() != "/pki/cdn.pem" {
		t.Errorf("download CA %q", cfg.DownloadCA())
	}
}
