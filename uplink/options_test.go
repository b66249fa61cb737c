package uplink

import (
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"medagent/tlsconf"
	"medagent/tlsconf/tlstest"
	"medagent/uplink/uplinktest"
)

func devPKI(t *testing.T) *tlstest.PKI {
	t.Helper()
	p, err := tlstest.WritePKI(filepath.Join(t.TempDir(), "pki"), "MA-0001")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func devOptions(p *tlstest.PKI, broker string) Options {
	return Options{
		Broker:   broker,
		DeviceID: p.DeviceID,
		TLS:      tlsconf.Options{CAFile: p.CA.CertFile, CertFile: p.Device.CertFile, KeyFile: p.Device.KeyFile},
	}
}

func TestNewRefuses(t *testing.T) {
	p := devPKI(t)
	log := slog.New(slog.DiscardHandler)
	src := uplinktest.NewSource()
	cases := []struct {
		name string
		edit func(o *Options)
		want string
	}{
		{"no broker", func(o *Options) { o.Broker = "" }, "no broker"},
		{"plain mqtt", func(o *Options) { o.Broker = "tcp://127.0.0.1:1883" }, "plain MQTT is not allowed"},
		{"no port", func(o *Options) { o.Broker = "tls://127.0.0.1" }, "no port"},
		{"wildcard in device id", func(o *Options) { o.DeviceID = "MA+1" }, "device id"},
		{"slash in device id", func(o *Options) { o.DeviceID = "MA/1" }, "device id"},
		{"format", func(o *Options) { o.Format = "xml" }, "unknown format"},
		{"inflight", func(o *Options) { o.InFlight = 5000 }, "inflight"},
		{"backoff", func(o *Options) { o.BackoffMin, o.BackoffMax = 10, 5 }, "backoff"},
		{"missing CA", func(o *Options) { o.TLS.CAFile = "/nonexistent/ca.pem" }, "tlsconf: CA file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := devOptions(p, "tls://127.0.0.1:8883")
			c.edit(&o)
			_, err := New(o, src, log)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
			if !strings.HasPrefix(err.Error(), "uplink: ") {
				t.Errorf("err %q lacks the package prefix", err)
			}
		})
	}
	if _, err := New(devOptions(p, "tls://127.0.0.1:8883"), nil, log); err == nil {
		t.Error("New accepted a nil source")
	}
	if _, err := New(devOptions(p, "tls://127.0.0.1:8883"), src, nil); err == nil {
		t.Error("New accepted a nil logger")
	}
	u, err := New(devOptions(p, "tls://127.0.0.1:8883"), src, log)
	if err != nil {
		t.Fatal(err)
	}
	if got := u.topic("alarms", "ecg"); got != "medagent/v1/MA-0001/alarms/ecg" {
		t.Errorf("topic = %q", got)
	}
	if got := u.statusTopic(); got != "medagent/v1/MA-0001/status" {
		t.Errorf("status topic = %q", got)
	}
	if u.opts.BaseName != "urn:dev:sn:MA-0001:" || u.opts.InFlight != 32 {
		t.Errorf("defaults not applied: %+v", u.opts)
	}
}
