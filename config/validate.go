package config

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"time"

	"medagent/edge/alarm"
	"medagent/internal/field"
)

type problem struct{ key, msg string }

type checker struct{ out []problem }

func (c *checker) add(key, format string, args ...any) {
	c.out = append(c.out, problem{key, fmt.Sprintf(format, args...)})
}

func (c *checker) rangeF(key string, v, lo, hi float64) {
	if !(v >= lo && v <= hi) {
		c.add(key, "must be %g..%g, got %g", lo, hi, v)
	}
}

func (c *checker) rangeI(key string, v, lo, hi int64) {
	if v < lo || v > hi {
		c.add(key, "must be %d..%d, got %d", lo, hi, v)
	}
}

func (c *checker) rangeD(key string, v, lo, hi time.Duration) {
	if v < lo || v > hi {
		c.add(key, "must be %v..%v, got %v", lo, hi, v)
	}
}

func (c *checker) oneOf(key, v string, allowed ...string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	c.add(key, "must be one of %q, got %q", allowed, v)
}

// component adds the problem a component's own Check found, at the key
// it names within section.
func (c *checker) component(section string, err error) {
	var fe *field.Error
	switch {
	case err == nil:
	case errors.As(err, &fe):
		c.add(section+"."+fe.Key, "%s", fe.Msg)
	default:
		c.add(section, "%v", err)
	}
}

func (c *checker) required(key, v string) bool {
	if v == "" {
		c.add(key, "is required")
		return false
	}
	return true
}

// idRe keeps device ids and stream names safe in MQTT topics and file names.
var idRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// problems lists everything wrong with c, in file order where possible.
func (cfg *Config) problems() []problem {
	c := &checker{}
	if c.required("device.id", cfg.Device.ID) && !idRe.MatchString(cfg.Device.ID) {
		c.add("device.id", "must be 1..64 letters, digits, '.', '_' or '-', got %q", cfg.Device.ID)
	}
	c.required("device.type", cfg.Device.Type)

	c.component("spool", cfg.Spool.Check())

	cfg.MQTT.check(c, cfg.Trust.TPM)
	cfg.Update.check(c, cfg.Commands.Enabled)
	cfg.Commands.check(c)
	cfg.Handoff.check(c, cfg.HandoffUsed(), cfg.Spool.Dir)
	cfg.Mender.check(c, cfg.Update.Enabled)
	cfg.EST.check(c)
	cfg.Trust.check(c)
	c.component("watchdog", cfg.Watchdog.Check())

	c.rangeI("realtime.priority", int64(cfg.Realtime.Priority), 0, 99)

	c.rangeD("edge.window", cfg.Edge.Window, 100*time.Millisecond, time.Minute)
	if cfg.Edge.MainsHz != 0 {
		c.oneOf("edge.mains_hz", fmt.Sprint(cfg.Edge.MainsHz), "50", "60")
	}
	c.rangeF("edge.spo2_cal_a", cfg.Edge.SpO2CalA, 50, 200)
	c.rangeF("edge.spo2_cal_b", cfg.Edge.SpO2CalB, 1, 100)
	c.rangeF("edge.waveform_rate", cfg.Edge.WaveformRate, 1, 1000)
	var fe *alarm.FieldError
	if err := cfg.Alarms.Validate(); errors.As(err, &fe) {
		c.add(fe.Key, "%s", fe.Msg)
	} else if err != nil {
		c.add("alarms", "%v", err)
	}
	names := map[string]bool{}
	for i, s := range cfg.Sensors {
		key := fmt.Sprintf("sensors[%d]", i)
		if !c.required(key+".name", s.Name) {
			continue
		}
		if names[s.Name] {
			c.add(key+".name", "duplicate sensor name %q", s.Name)
		}
		names[s.Name] = true
		checkSensor(c, key, s)
	}
	for i, w := range cfg.Edge.Waveforms {
		if !names[w] {
			c.add(fmt.Sprintf("edge.waveforms[%d]", i), "no sensor named %q", w)
		}
	}

	c.rangeF("sim.heart_rate", cfg.Sim.HeartRate, 20, 300)
	c.rangeF("sim.hrv_std", cfg.Sim.HRVStd, 0, 0.5)
	c.rangeF("sim.spo2", cfg.Sim.SpO2, 50, 100)
	c.rangeF("sim.temp_c", cfg.Sim.TempC, 25, 45)
	c.rangeF("sim.resp_rate", cfg.Sim.RespRate, 0, 60)
	c.rangeF("sim.noise_mv", cfg.Sim.NoiseMV, 0, 2)
	c.rangeF("sim.wander_mv", cfg.Sim.WanderMV, 0, 5)
	if cfg.Sim.MainsHz != 0 {
		c.oneOf("sim.mains_hz", fmt.Sprint(cfg.Sim.MainsHz), "50", "60")
	}
	c.rangeF("sim.mains_mv", cfg.Sim.MainsMV, 0, 2)
	var prev time.Duration
	for i, ch := range cfg.Sim.Changes {
		key := fmt.Sprintf("sim.changes[%d]", i)
		c.rangeD(key+".at", ch.At, prev, 24*time.Hour)
		c.rangeD(key+".ramp", ch.Ramp, 0, time.Hour)
		if ch.HeartRate != 0 {
			c.rangeF(key+".heart_rate", ch.HeartRate, 20, 300)
		}
		if ch.SpO2 != 0 {
			c.rangeF(key+".spo2", ch.SpO2, 50, 100)
		}
		if ch.TempC != 0 {
			c.rangeF(key+".temp_c", ch.TempC, 25, 45)
		}
		prev = ch.At
	}

	c.oneOf("log.level", cfg.Log.Level, "debug", "info", "warn", "error")
	c.oneOf("log.format", cfg.Log.Format, "text", "json")
	return c.out
}

func (m *MQTT) check(c *checker, tpm string) {
	if m.Broker == "" && len(m.Brokers) == 0 {
		c.add("mqtt.broker", "is required (or mqtt.brokers, the nodes of a cluster)")
	}
	if m.Broker != "" {
		checkBrokerURL(c, "mqtt.broker", m.Broker)
	}
	for i, b := range m.Brokers {
		checkBrokerURL(c, fmt.Sprintf("mqtt.brokers[%d]", i), b)
	}
	if len(m.Brokers) > 32 {
		c.add("mqtt.brokers", "has %d entries, at most 32", len(m.Brokers))
	}
	c.required("mqtt.ca_file", m.CAFile)
	c.required("mqtt.cert_file", m.CertFile)
	// With a TPM named in trust.tpm the device key lives in it and is never
	// a file: naming one would suggest a fall-back that does not exist.
	if tpm == "" || tpm == "off" {
		c.required("mqtt.key_file", m.KeyFile)
	} else if m.KeyFile != "" {
		c.add("mqtt.key_file", "must be empty when trust.tpm is set (%s): the device key lives in the TPM; remove the key", tpm)
	}
	c.oneOf("mqtt.format", m.Format, "json", "cbor")
	c.rangeI("mqtt.inflight", int64(m.InFlight), 1, 1024)
	c.rangeD("mqtt.keepalive", m.KeepAlive, 5*time.Second, 10*time.Minute)
	c.rangeD("mqtt.backoff_min", m.BackoffMin, 100*time.Millisecond, time.Minute)
	c.rangeD("mqtt.backoff_max", m.BackoffMax, max(m.BackoffMin, 100*time.Millisecond), 2*time.Minute)
	c.rangeD("mqtt.backoff_reset_after", m.BackoffResetAfter, 0, time.Hour)
	c.rangeI("mqtt.max_connects_per_minute", int64(m.MaxConnectsPerMinute), 2, 60)
	c.rangeD("mqtt.probe_interval", m.ProbeInterval, 100*time.Millisecond, time.Minute)
	c.rangeD("mqtt.connect_timeout", m.ConnectTimeout, 100*time.Millisecond, 2*time.Minute)
	c.rangeD("mqtt.connack_timeout", m.ConnackTimeout, 100*time.Millisecond, 2*time.Minute)
	c.rangeI("mqtt.fleet_size", int64(m.FleetSize), 1, 100000)
	c.rangeI("mqtt.fleet_connect_rate", int64(m.FleetConnectRate), 1, 10000)
	c.rangeI("mqtt.max_packet_bytes", int64(m.MaxPacketBytes), 1<<10, 64<<20)
	c.required("mqtt.topic_prefix", m.TopicPrefix)
}

func checkBrokerURL(c *checker, key, b string) {
	u, err := url.Parse(b)
	switch {
	case err != nil:
		c.add(key, "not a URL: %v", err)
	case u.Scheme != "tls" && u.Scheme != "ssl" && u.Scheme != "mqtts":
		c.add(key, "must use TLS (tls://host:port), got scheme %q: plain MQTT is not allowed", u.Scheme)
	case u.Port() == "":
		c.add(key, "must name a port, e.g. tls://%s:8883", u.Host)
	}
}
