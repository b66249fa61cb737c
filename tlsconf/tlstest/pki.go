package tlstest

import (
	"fmt"
	"net"
	"os"
)

// File names of the development PKI written by WritePKI, relative to its
// directory. mosquittotest and the demo find them by these names.
const (
	CAFile         = "ca.pem"
	BrokerCertFile = "broker.pem"
	BrokerKeyFile  = "broker.key"
	DeviceCertFile = "device.pem"
	DeviceKeyFile  = "device.key"
	// The monitor is the subscriber identity (read access to medagent/v1/#).
	MonitorCertFile = "monitor.pem"
	MonitorKeyFile  = "monitor.key"
	// MonitorName is the common name of the monitor certificate.
	MonitorName = "monitor"
)

// PKI is a development PKI in one directory.
type PKI struct {
	Dir      string
	DeviceID string
	CA       *CA
	Broker   *Cert // server cert for localhost and 127.0.0.1
	Device   *Cert // client cert with CN = DeviceID
	Monitor  *Cert // client cert with CN = MonitorName
}

// WritePKI makes dir (mode 0700) and writes a CA, a broker certificate for
// localhost/127.0.0.1/::1, a device certificate whose common name is
// deviceID and a monitor certificate into it.
func WritePKI(dir, deviceID string) (*PKI, error) {
	if deviceID == "" || deviceID == MonitorName {
		return nil, fmt.Errorf("tlstest: device id %q not usable", deviceID)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("tlstest: %w", err)
	}
	ca, err := NewCA(dir, "medagent dev CA")
	if err != nil {
		return nil, err
	}
	p := &PKI{Dir: dir, DeviceID: deviceID, CA: ca}
	p.Broker, err = ca.Issue("broker", Options{
		CommonName:  "localhost",
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		Usage:       Server,
	})
	if err != nil {
		return nil, err
	}
	if p.Device, err = ca.Issue("device", Options{CommonName: deviceID}); err != nil {
		return nil, err
	}
	if p.Monitor, err = ca.Issue("monitor", Options{CommonName: MonitorName}); err != nil {
		return nil, err
	}
	return p, nil
}
