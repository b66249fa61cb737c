package tlsconf

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"time"
)

// Options says where the client's trust and identity come from.
type Options struct {
	CAFile   string `yaml:"ca_file"`   // PEM CA certificate(s) of the broker
	CertFile string `yaml:"cert_file"` // PEM device certificate, optionally followed by intermediates
	KeyFile  string `yaml:"key_file"`  // PEM private key (PKCS#8, SEC1 or PKCS#1), mode 0600 or stricter
	// Signer holds the private key instead of KeyFile (e.g. in a TPM).
	// Exactly one of KeyFile and Signer is set.
	Signer     crypto.Signer `yaml:"-"`
	ServerName string        `yaml:"server_name"` // default: the host dialled
	// MinVersion is tls.VersionTLS12 (the default) or tls.VersionTLS13.
	MinVersion uint16 `yaml:"-"`
	// Now is the clock that judges certificates, the device's own and the
	// server's (tls.Config.Time); nil means time.Now.
	Now func() time.Time `yaml:"-"`
}

// ErrKeyPermissions is wrapped by Client's error when the key file can be
// read by group or others.
var ErrKeyPermissions = errors.New("key file readable by group or others")

// ErrCertTime is wrapped by Client's error when the device certificate is
// not valid at the clock's time (not yet, or no longer): a state that a
// correct clock or a renewal ends, which callers may wait out.
var ErrCertTime = errors.New("certificate outside its validity period")

// now is the clock used to check certificate validity (a test seam).
var now = time.Now

// Client loads and checks o and returns a TLS client configuration that
// trusts only the CA file and presents the device certificate.
func Client(o Options) (*tls.Config, error) {
	if o.CAFile == "" {
		return nil, errors.New("tlsconf: no CA file given")
	}
	if o.CertFile == "" {
		return nil, errors.New("tlsconf: no certificate file given")
	}
	if (o.KeyFile == "") == (o.Signer == nil) {
		return nil, errors.New("tlsconf: give exactly one of a key file and a signer")
	}
	minV := o.MinVersion
	switch minV {
	case 0:
		minV = tls.VersionTLS12
	case tls.VersionTLS12, tls.VersionTLS13:
	default:
		return nil, fmt.Errorf("tlsconf: minimum TLS version %#x not allowed (want TLS 1.2 or 1.3)", minV)
	}
	pool, err := loadCA(o.CAFile)
	if err != nil {
		return nil, err
	}
	chain, err := loadCerts(o.CertFile)
	if err != nil {
		return nil, err
	}
	leaf := chain[0]
	clock := now
	if o.Now != nil {
		clock = o.Now
	}
	if err := checkLeaf(o.CertFile, leaf, clock()); err != nil {
		return nil, err
	}
	signer := o.Signer
	if signer == nil {
		if signer, err = loadKey(o.KeyFile); err != nil {
			return nil, err
		}
	}
	pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(leaf.PublicKey) {
		what := "key file " + o.KeyFile
		if o.KeyFile == "" {
			what = "signer"
		}
		return nil, fmt.Errorf("tlsconf: %s does not match the certificate in %s", what, o.CertFile)
	}
	cert := tls.Certificate{PrivateKey: signer, Leaf: leaf}
	for _, c := range chain {
		cert.Certificate = append(cert.Certificate, c.Raw)
	}
	return &tls.Config{
		RootCAs:      pool,
		Certificates: []tls.Certificate{cert},
		ServerName:   o.ServerName,
		MinVersion:   minV,
		Time:         o.Now,
		// TLS 1.3 suites are not configurable (all are AEAD); for 1.2 keep
		// forward-secret AEAD suites only.
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
	}, nil
}

func checkLeaf(file string, c *x509.Certificate, t time.Time) error {
	if t.Before(c.NotBefore) {
		return fmt.Errorf("tlsconf: certificate %s is not valid before %s (clock now %s): %w",
			file, c.NotBefore.UTC().Format(time.RFC3339), t.UTC().Format(time.RFC3339), ErrCertTime)
	}
	if t.After(c.NotAfter) {
		return fmt.Errorf("tlsconf: certificate %s expired on %s (clock now %s): %w", file, c.NotAfter.UTC().Format(time.RFC3339), t.UTC().Format(time.RFC3339), ErrCertTime)
	}
	if c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		return fmt.Errorf("tlsconf: certificate %s does not allow digital signatures (keyUsage), so it cannot authenticate a TLS client", file)
	}
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return nil // no EKU extension: any use
	}
	for _, u := range c.ExtKeyUsage {
		if u == x509.ExtKeyUsageClientAuth || u == x509.ExtKeyUsageAny {
			return nil
		}
	}
	return fmt.Errorf("tlsconf: certificate %s does not allow client authentication (extKeyUsage lacks clientAuth)", file)
}
