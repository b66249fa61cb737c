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
	// Broker is one broker, tls://host:port (also ssl://, mqtts://).
	Broker string `yaml:"broker"`
	// Brokers are the nodes of one clustered broker. Each device tries
	// them in its own order (shuffled with its device id as the seed, so
	// that a fleet spreads over the nodes) and goes to the next one when a
	// connection fails or breaks. Broker, if set, is added to the list.
	Brokers  []string        `yaml:"brokers"`
	DeviceID string          `yaml:"device_id"` // MQTT client id, topic segment; must match the certificate CN
	TLS      tlsconf.Options `yaml:"tls"`
	// Format is "json" (default) or "cbor".
	Format string `yaml:"format"`
	// BaseName is the SenML base name; default "urn:dev:sn:{DeviceID}:".
	BaseName    string        `yaml:"base_name"`
	TopicPrefix string        `yaml:"topic_prefix"` // default "medagent/v1"
	InFlight    int           `yaml:"inflight"`     // default 32
	KeepAlive   time.Duration `yaml:"keepalive"`    // default 30s
	// ConnectTimeout bounds the TCP dial and the TLS handshake; default 10s.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// ConnackTimeout bounds the wait for the broker's CONNACK once TCP and
	// TLS are up; default 30s, 100ms..2m. A cluster that restarts or is
	// loaded holds CONNECTs while it looks the session up (NATS: a
	// JetStream request, given up by NATS itself after its mqtt
	// js_api_timeout, 5 s by default): a connect given up and tried
	// again would only add a TLS handshake and a session take-over to the
	// load of a broker that is busy recovering, so a broker that answered
	// TLS is given longer than one that does not answer at all.
	ConnackTimeout time.Duration `yaml:"connack_timeout"`
	// AckTimeout bounds the wait for one PUBACK before the connection is
	// considered broken; default 30s.
	AckTimeout time.Duration `yaml:"ack_timeout"`
	// Reconnects wait a capped exponential backoff with full jitter:
	// uniform in [0, min(BackoffMax, BackoffMin·2^n)) before the n-th
	// attempt since the last stable session (see retry).
	BackoffMin time.Duration `yaml:"backoff_min"` // default 1s
	BackoffMax time.Duration `yaml:"backoff_max"` // default 30s, at most 2m
	// BackoffResetAfter is how long a session must stay connected before
	// the backoff starts again from BackoffMin; default 10s.
	BackoffResetAfter time.Duration `yaml:"backoff_reset_after"`
	// MaxConnectsPerMinute bounds connect attempts in any 60 s (brokers
	// ban clients that flap: EMQX at 15 a minute); default 10, 2..60.
	MaxConnectsPerMinute int `yaml:"max_connects_per_minute"`
	// ProbeInterval is how often, while waiting to reconnect, the uplink
	// checks with a bare TCP connect (no TLS, no MQTT) whether a broker
	// that refused connections listens again; one that does is tried at
	// once (within the rate limit) instead of at the end of the backoff.
	// Default 5s (each probe waits uniform in [interval/2, interval]).
	ProbeInterval time.Duration `yaml:"probe_interval"`
	// FleetSize and FleetConnectRate spread a fleet's return: the devices
	// of a site lose a cluster together (a full restart, the site's
	// network) and their probes see it listen again within the same few
	// seconds. A device whose probe finds a broker back waits uniform in
	// [0, W) before it connects, W = FleetSize/FleetConnectRate seconds
	// (the time the cluster needs to take the whole fleet at that rate),
	// at most BackoffMax − ProbeInterval, so that a returning broker is
	// still tried within BackoffMax. Defaults 100 devices and 20 connects
	// a second (W = 5 s); FleetSize 1..100000, FleetConnectRate 1..10000.
	FleetSize        int `yaml:"fleet_size"`
	FleetConnectRate int `yaml:"fleet_connect_rate"`
	// MaxPacketBytes bounds the MQTT packets the broker may send (remaining
	// length); a larger one ends the connection before anything is
	// allocated for it. Default 256 KiB.
	MaxPacketBytes int `yaml:"max_packet_bytes"`
	// ShutdownGrace bounds, at cancel, the wait for outstanding PUBACKs
	// and the "offline" publish; default 2s.
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
	// Commands, when set, receives the messages of the device's command
	// topic {prefix}/{device}/cmd/... and its results go to
	// {prefix}/{device}/cmd-result.
	Commands CommandFunc `yaml:"-"`
	// Now is the clock that judges certificates (the device's and the
	// broker's); nil means time.Now.
	Now func() time.Time `yaml:"-"`
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
	if o.ConnackTimeout == 0 {
		o.ConnackTimeout = 30 * time.Second
	}
	if o.AckTimeout == 0 {
		o.AckTimeout = 30 * time.Second
	}
	if o.BackoffMin == 0 {
		o.BackoffMin = time.Second
	}
	if o.BackoffMax == 0 {
		o.BackoffMax = 30 * time.Second
	}
	if o.BackoffResetAfter == 0 {
		o.BackoffResetAfter = 10 * time.Second
	}
	if o.MaxConnectsPerMinute == 0 {
		o.MaxConnectsPerMinute = 10
	}
	if o.ProbeInterval == 0 {
		o.ProbeInterval = 5 * time.Second
	}
	if o.FleetSize == 0 {
		o.FleetSize = 100
	}
	if o.FleetConnectRate == 0 {
		o.FleetConnectRate = 20
	}
	if o.MaxPacketBytes == 0 {
		o.MaxPacketBytes = 256 << 10
	}
	if o.ShutdownGrace == 0 {
		o.ShutdownGrace = 2 * time.Second
	}
}

// brokerList is Broker and Brokers, without repeats, in the given order.
func (o *Options) brokerList() []string {
	var l []string
	seen := map[string]bool{}
	for _, b := range append([]string{o.Broker}, o.Brokers...) {
		if b != "" && !seen[b] {
			seen[b] = true
			l = append(l, b)
		}
	}
	return l
}

// checkBroker checks one broker URL.
func checkBroker(b string) error {
	u, err := url.Parse(b)
	switch {
	case err != nil:
		return fmt.Errorf("uplink: broker %q: %w", b, err)
	case u.Scheme != "tls" && u.Scheme != "ssl" && u.Scheme != "mqtts":
		return fmt.Errorf("uplink: broker %q: scheme must be tls:// (plain MQTT is not allowed)", b)
	case u.Port() == "":
		return fmt.Errorf("uplink: broker %q: no port", b)
	}
	return nil
}

func (o *Options) validate() error {
	l := o.brokerList()
	if len(l) == 0 {
		return fmt.Errorf("uplink: no broker given (broker or brokers)")
	}
	if len(l) > 32 {
		return fmt.Errorf("uplink: %d brokers: at most 32", len(l))
	}
	for _, b := range l {
		if err := checkBroker(b); err != nil {
			return err
		}
	}
	if !topicSegment.MatchString(o.DeviceID) {
		return fmt.Errorf("uplink: device id %q: want 1-64 of A-Z a-z 0-9 . _ - starting with a letter or digit", o.DeviceID)
	}
	if o.InFlight < 1 || o.InFlight > 1024 {
		return fmt.Errorf("uplink: inflight %d: want 1..1024", o.InFlight)
	}
	if o.BackoffMin <= 0 || o.BackoffMax < o.BackoffMin || o.BackoffMax > 2*time.Minute {
		return fmt.Errorf("uplink: backoff %v..%v: want 0 < min <= max <= 2m", o.BackoffMin, o.BackoffMax)
	}
	if o.BackoffResetAfter < 0 {
		return fmt.Errorf("uplink: backoff_reset_after %v: want >= 0", o.BackoffResetAfter)
	}
	if o.MaxConnectsPerMinute < 2 || o.MaxConnectsPerMinute > 60 {
		return fmt.Errorf("uplink: max_connects_per_minute %d: want 2..60", o.MaxConnectsPerMinute)
	}
	if o.ProbeInterval < 100*time.Millisecond || o.ProbeInterval > time.Minute {
		return fmt.Errorf("uplink: probe_interval %v: want 100ms..1m", o.ProbeInterval)
	}
	if o.ConnectTimeout < 100*time.Millisecond || o.ConnectTimeout > 2*time.Minute {
		return fmt.Errorf("uplink: connect_timeout %v: want 100ms..2m", o.ConnectTimeout)
	}
	if o.ConnackTimeout < 100*time.Millisecond || o.ConnackTimeout > 2*time.Minute {
		return fmt.Errorf("uplink: connack_timeout %v: want 100ms..2m", o.ConnackTimeout)
	}
	if o.FleetSize < 1 || o.FleetSize > 100000 {
		return fmt.Errorf("uplink: fleet_size %d: want 1..100000", o.FleetSize)
	}
	if o.FleetConnectRate < 1 || o.FleetConnectRate > 10000 {
		return fmt.Errorf("uplink: fleet_connect_rate %d: want 1..10000 connects a second", o.FleetConnectRate)
	}
	if o.MaxPacketBytes < 1<<10 || o.MaxPacketBytes > 64<<20 {
		return fmt.Errorf("uplink: max_packet_bytes %d: want 1 KiB..64 MiB", o.MaxPacketBytes)
	}
	return nil
}

// returnWindow is W of FleetSize: the window over which the devices of a
// fleet spread their connects when a broker returns.
func (o *Options) returnWindow() time.Duration {
	w := time.Duration(float64(o.FleetSize) / float64(o.FleetConnectRate) * float64(time.Second))
	return max(min(w, o.BackoffMax-o.ProbeInterval), 0)
}
