package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"strings"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// startBroker runs an in-process MQTT broker on addr that requires a client
// certificate from caFile, like mosquitto's require_certificate, and lets a
// device publish only under its own topic (its certificate's CN), like
// use_identity_as_username with a per-device ACL.
func startBroker(addr, caFile, certFile, keyFile string, log *slog.Logger) (*mqtt.Server, error) {
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("broker: %s: no certificates", caFile)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	s := mqtt.New(&mqtt.Options{InlineClient: true, Logger: log})
	if err := s.AddHook(new(certACL), nil); err != nil {
		return nil, err
	}
	l := listeners.NewTCP(listeners.Config{ID: "mtls", Address: addr, TLSConfig: &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
	}})
	if err := s.AddListener(l); err != nil {
		return nil, fmt.Errorf("broker: listen on %s: %w", addr, err)
	}
	go func() {
		if err := s.Serve(); err != nil {
			log.Error("broker stopped", "err", err)
		}
	}()
	return s, nil
}

// certACL authenticates clients by their TLS certificate's common name and
// lets each write only to medagent/v1/{CN}/...
type certACL struct{ mqtt.HookBase }

func (h *certACL) ID() string { return "cert-acl" }

func (h *certACL) Provides(b byte) bool {
	return bytes.Contains([]byte{mqtt.OnConnectAuthenticate, mqtt.OnACLCheck}, []byte{b})
}

func (h *certACL) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	return commonName(cl) != ""
}

func (h *certACL) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	if !write {
		return true
	}
	cn := commonName(cl)
	return cn != "" && strings.HasPrefix(topic, "medagent/v1/"+cn+"/")
}

func commonName(cl *mqtt.Client) string {
	tc, ok := cl.Net.Conn.(*tls.Conn)
	if !ok {
		return ""
	}
	st := tc.ConnectionState()
	if len(st.PeerCertificates) == 0 {
		return ""
	}
	return st.PeerCertificates[0].Subject.CommonName
}
