package uplink

import (
	"context"
	"crypto/tls"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net"
	"net/url"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// brokerOrder is the device's order of the broker list: shuffled with the
// device id as the seed, so that the devices of a fleet spread over the
// nodes of a cluster and each device's order is the same at every start
// (and can be read back from its logs).
func brokerOrder(brokers []string, deviceID string) []string {
	l := append([]string(nil), brokers...)
	h := fnv.New64a()
	h.Write([]byte(deviceID))
	rand.New(rand.NewPCG(h.Sum64(), 0x6d656461)).Shuffle(len(l), func(i, j int) { l[i], l[j] = l[j], l[i] })
	return l
}

// hostPort is the dial address of a checked broker URL.
func hostPort(broker string) string {
	u, err := url.Parse(broker)
	if err != nil {
		return broker
	}
	return u.Host
}

// dialError says that the TCP connection to a broker could not be made
// (refused, unreachable, timed out): nothing listens there.
type dialError struct{ err error }

func (e *dialError) Error() string { return e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// opener is the MQTT client's connection function: TCP and TLS within
// ConnectTimeout (the client's own deadline, which also covers the
// CONNACK, is longer), TLS with the uplink's configuration, and the
// packet-size guard in front of the client's reader. dialed records
// whether TCP got through, opened that TLS is up; refused is called when
// the guard drops the connection.
func (u *Uplink) opener(tc *tls.Config, dialed func(error), opened func(), refused func(error)) mqtt.OpenConnectionFunc {
	return func(uri *url.URL, _ mqtt.ClientOptions) (net.Conn, error) {
		ctx, cancel := context.WithTimeout(context.Background(), u.opts.ConnectTimeout)
		defer cancel()
		raw, err := (&net.Dialer{}).DialContext(ctx, "tcp", uri.Host)
		if err != nil {
			err = &dialError{err}
			dialed(err)
			return nil, err
		}
		dialed(nil)
		cfg := tc.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName = uri.Hostname()
		}
		c := tls.Client(raw, cfg)
		if err := c.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, fmt.Errorf("TLS handshake: %w", err)
		}
		opened()
		return newGuardedConn(c, u.opts.MaxPacketBytes, refused), nil
	}
}

// reachable says whether a bare TCP connection to addr succeeds within
// timeout. It sends nothing and closes at once.
func reachable(ctx context.Context, addr string, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
