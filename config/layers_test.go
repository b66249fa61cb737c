package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestLoadLayers(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "product.yaml")
	dev := filepath.Join(dir, "device.yaml")
	os.WriteFile(base, []byte("device: {id: MA-BASE, type: bedside}\nmqtt:\n  broker: tls://a:8883\n  ca_file: ca.pem\n  cert_file: c.pem\n  key_file: k.pem\n  inflight: 8\n"), 0o644)
	os.WriteFile(dev, []byte("device:\n  id: MA-0007\nmqtt:\n  broker: tls://b:8883\n"), 0o644)
	cfg, err := LoadLayers(base, dev)
	if err != nil {
		t.Fatal(err)
	}
	// The overlay sets what it names and leaves the rest of the product file.
	if cfg.Device.ID != "MA-0007" || cfg.Device.Type != "bedside" || cfg.MQTT.Broker != "tls://b:8883" || cfg.MQTT.InFlight != 8 || cfg.MQTT.CAFile != "ca.pem" {
		t.Fatalf("merged: %+v %+v", cfg.Device, cfg.MQTT)
	}
	// An error set by the overlay names the overlay and its line.
	os.WriteFile(dev, []byte("device:\n  id: MA-0007\nmqtt:\n  inflight: 5000\n"), 0o644)
	_, err = LoadLayers(base, dev)
	var ce *Error
	if !errors.As(err, &ce) || ce.File != dev || ce.Line != 4 || ce.Key != "mqtt.inflight" {
		t.Fatalf("error = %v, want %s:4 mqtt.inflight", err, dev)
	}
	if _, err := LoadLayers(base, filepath.Join(dir, "none.yaml")); err == nil {
		t.Fatal("a missing overlay named explicitly must fail")
	}
}

func TestKeyFileWithTPM(t *testing.T) {
	base := "device: {id: MA-1}\nmqtt: {broker: \"tls://a:8883\", ca_file: ca.pem, cert_file: c.pem"
	if _, err := Parse("x", []byte(base+"}\ntrust: {tpm: /dev/tpmrm0}\n")); err != nil {
		t.Errorf("TPM without key file: %v", err)
	}
	if _, err := Parse("x", []byte(base+", key_file: k.pem}\ntrust: {tpm: /dev/tpmrm0}\n")); err == nil {
		t.Error("a key file beside a TPM was accepted")
	}
	if _, err := Parse("x", []byte(base+"}\n")); err == nil {
		t.Error("no TPM and no key file was accepted")
	}
}

// TestBrokerIsOneSetting: mqtt.broker and mqtt.brokers are one setting
// across layers; a layer that names either replaces both, so a device
// layer never keeps the product file's placeholder nodes.
func TestBrokerIsOneSetting(t *testing.T) {
	const rest = "  ca_file: ca.pem\n  cert_file: c.pem\n  key_file: k.pem\n"
	for _, c := range []struct {
		product, device string
		broker          string
		brokers         []string
	}{
		{"mqtt:\n  brokers: [\"tls://p1:8883\", \"tls://p2:8883\"]\n", "mqtt:\n  broker: tls://d:8883\n", "tls://d:8883", nil},
		{"mqtt:\n  broker: tls://p:8883\n", "mqtt:\n  brokers: [\"tls://d1:8883\"]\n", "", []string{"tls://d1:8883"}},
		{"mqtt:\n  broker: tls://p:8883\n", "mqtt:\n  broker: tls://d:8883\n  brokers: [\"tls://d1:8883\"]\n", "tls://d:8883", []string{"tls://d1:8883"}},
		{"mqtt:\n  broker: tls://p:8883\n  brokers: [\"tls://p1:8883\"]\n", "mqtt:\n  inflight: 4\n", "tls://p:8883", []string{"tls://p1:8883"}},
	} {
		cfg, err := ParseLayers(Layer{Name: "product", Data: []byte("device: {id: MA-1}\n" + c.product + rest)}, Layer{Name: "device", Data: []byte(c.device)})
		if err != nil {
			t.Fatal(err)
		}
		if cfg.MQTT.Broker != c.broker || !slices.Equal(cfg.MQTT.Brokers, c.brokers) {
			t.Errorf("product %q + device %q: broker %q brokers %v, want %q %v", c.product, c.device, cfg.MQTT.Broker, cfg.MQTT.Brokers, c.broker, c.brokers)
		}
	}
}
