package uplink

import (
	"fmt"
	"net/url"
	"regexp"
	"time"

	"medagent/tlsconf"
)

// Options configure the uplink. Zero values take the defaults shown.
type Options struct {
	Broker   string          `yaml:"broker"`    // tls://host:port (also ssl://, mqtts://)
	DeviceID string          `yaml:"device_id"` // MQTT client id, topic segment; must match the certificate CN
	TLS      tlsconf.Options `yaml:"tls"`
	// Format is "json" (default) or "cbor".
	Format string `yaml:"format"`
	// BaseName is the SenML base name; default "urn:dev:sn:{DeviceID}:".
	BaseName    string        `yaml:"base_name"`
	TopicPrefix string        `yaml:"topic_prefix"` // default "medagent/v1"
	InFlight    int           `yaml:"inflight"`     // default 32
	KeepAlive   time.Duration `yaml:"keepalive"`    // default 30s
	// ConnectTimeout bounds dial, TLS handshake and CONNACK; default 10s.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// AckTimeout bounds the wait for one PUBACK before the connection is
	// considered broken; default 30s.
	AckTimeout time.Duration `yaml:"ack_timeout"`
	BackoffMin time.Duration `yaml:"backoff_min"` // default 1s
	BackoffMax time.Duration `yaml:"backoff_max"` // default 1m
	// ShutdownGrace bounds, at cancel, the wait for outstanding PUBACKs
	// and the "offline" publish; default 2s.
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
	// Commands, when set, receives the messages of the device's command
	// topic {prefix}/{device}/cmd/... and its results go to
	// {prefix}/{device}/cmd-result.
	Commands CommandFunc `yaml:"-"`
}

// topicSegment keeps device ids and stream names safe as one topic level
// (no '/', '+', '#') and in a SenML name.
var topicSegment = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func (o *Options) ensureDefaults() {
	if o.BaseName == "" {
		o.BaseName = "urn:dev:sn:" + o.DeviceID + ":"
	}
	if o.TopicPrefix == "" {
		o.TopicPrefix = "medagent/v1"
	}
	if o.InFlight == 0 {
		o.InFlight = 32
	}
	if o.KeepAlive == 0 {
		o.KeepAlive = 30 * time.Second
	}
	if o.ConnectTimeout == 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	if o.AckTimeout == 0 {
		o.AckTimeout = 30 * time.Second
	}
	if o.BackoffMin == 0 {
		o.BackoffMin = time.Second
	}
	if o.BackoffMax == 0 {
		o.BackoffMax = time.Minute
	}
	if o.ShutdownGrace == 0 {
		o.ShutdownGrace = 2 * time.Second
	}
}

func (o *Options) validate() error {
	u, err := url.Parse(o.Broker)
	switch {
	case o.Broker == "":
		return fmt.Errorf("uplink: no broker given")
	case err != nil:
		return fmt.Errorf("uplink: broker %q: %w", o.Broker, err)
	case u.Scheme != "tls" && u.Scheme != "ssl" && u.Scheme != "mqtts":
		return fmt.Errorf("uplink: broker %q: scheme must be tls:// (plain MQTT is not allowed)", o.Broker)
	case u.Port() == "":
		return fmt.Errorf("uplink: broker %q: no port", o.Broker)
	}
	if !topicSegment.MatchString(o.DeviceID) {
		return fmt.Errorf("uplink: device id %q: want 1-64 of A-Z a-z 0-9 . _ - starting with a letter or digit", o.DeviceID)
	}
	if o.InFlight < 1 || o.InFlight > 1024 {
		return fmt.Errorf("uplink: inflight %d: want 1..1024", o.InFlight)
	}
	if o.BackoffMin < 0 || o.BackoffMax < o.BackoffMin {
		return fmt.Errorf("uplink: backoff %v..%v: want 0 <= min <= max", o.BackoffMin, o.BackoffMax)
	}
	return nil
}
