package tlstest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// CA is a certificate authority whose key is in memory.
type CA struct {
	Cert     *x509.Certificate
	Key      crypto.Signer
	CertFile string // PEM file of Cert
	dir      string
}

// NewCA makes a self-signed CA named commonName and writes its certificate
// to dir/ca.pem (and its key to dir/ca.key, mode 0600, for tools that need
// it). Issued certificates also go to dir.
func NewCA(dir, commonName string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("tlstest: generate CA key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: commonName, Organization: []string{"medagent test"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(5 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("tlstest: create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("tlstest: parse CA certificate: %w", err)
	}
	ca := &CA{Cert: cert, Key: key, CertFile: filepath.Join(dir, "ca.pem"), dir: dir}
	if err := writePEM(ca.CertFile, "CERTIFICATE", der, 0o644); err != nil {
		return nil, err
	}
	if err := writeKey(filepath.Join(dir, "ca.key"), key, 0o600); err != nil {
		return nil, err
	}
	return ca, nil
}

// Usage says what an issued certificate may be used for.
type Usage uint8

// Usages; they combine.
const (
	Server Usage = 1 << iota // extKeyUsage serverAuth
	Client                   // extKeyUsage clientAuth
)

// Options shape an issued certificate. Zero values give a client
// certificate valid from an hour ago for a year, key file mode 0600.
type Options struct {
	CommonName  string // default: the name passed to Issue
	DNSNames    []string
	IPAddresses []net.IP
	Usage       Usage // default Client
	// ExtKeyUsage, if not nil, replaces what Usage gives (e.g. only
	// x509.ExtKeyUsageCodeSigning, to test refusals).
	ExtKeyUsage []x509.ExtKeyUsage
	NotBefore   time.Time
	NotAfter    time.Time
	KeyMode     os.FileMode // default 0600
}

// Cert is an issued certificate and its key, written to CertFile and KeyFile.
type Cert struct {
	Cert     *x509.Certificate
	Key      crypto.Signer
	CertFile string
	KeyFile  string
}

// Issue makes a certificate signed by ca and writes it to <dir>/<name>.pem
// and its key to <dir>/<name>.key.
func (ca *CA) Issue(name string, o Options) (*Cert, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("tlstest: generate key for %s: %w", name, err)
	}
	now := time.Now()
	if o.CommonName == "" {
		o.CommonName = name
	}
	if o.NotBefore.IsZero() {
		o.NotBefore = now.Add(-time.Hour)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = now.Add(365 * 24 * time.Hour)
	}
	if o.Usage == 0 {
		o.Usage = Client
	}
	if o.KeyMode == 0 {
		o.KeyMode = 0o600
	}
	eku := o.ExtKeyUsage
	if eku == nil {
		if o.Usage&Server != 0 {
			eku = append(eku, x509.ExtKeyUsageServerAuth)
		}
		if o.Usage&Client != 0 {
			eku = append(eku, x509.ExtKeyUsageClientAuth)
		}
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: o.CommonName},
		DNSNames:     o.DNSNames,
		IPAddresses:  o.IPAddresses,
		NotBefore:    o.NotBefore,
		NotAfter:     o.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  eku,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return nil, fmt.Errorf("tlstest: create certificate %s: %w", name, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("tlstest: parse certificate %s: %w", name, err)
	}
	c := &Cert{
		Cert:     cert,
		Key:      key,
		CertFile: filepath.Join(ca.dir, name+".pem"),
		KeyFile:  filepath.Join(ca.dir, name+".key"),
	}
	if err := writePEM(c.CertFile, "CERTIFICATE", der, 0o644); err != nil {
		return nil, err
	}
	if err := writeKey(c.KeyFile, key, o.KeyMode); err != nil {
		return nil, err
	}
	return c, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return n
}

func writeKey(path string, key *ecdsa.PrivateKey, mode os.FileMode) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("tlstest: marshal key %s: %w", path, err)
	}
	return writePEM(path, "PRIVATE KEY", der, mode)
}

func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	b := pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	if err := os.WriteFile(path, b, mode); err != nil {
		return fmt.Errorf("tlstest: write %s: %w", path, err)
	}
	// WriteFile's mode is filtered by the umask and ignored for an existing file.
	if err := os.Chmod(path, mode); err != nil {
		return fmt.Errorf("tlstest: chmod %s: %w", path, err)
	}
	return nil
}
