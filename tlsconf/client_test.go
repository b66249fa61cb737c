package tlsconf

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"medagent/tlsconf/tlstest"
)

func pki(t *testing.T) *tlstest.PKI {
	t.Helper()
	p, err := tlstest.WritePKI(filepath.Join(t.TempDir(), "pki"), "MA-0001")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func issue(t *testing.T, ca *tlstest.CA, name string, o tlstest.Options) *tlstest.Cert {
	t.Helper()
	c, err := ca.Issue(name, o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func write(t *testing.T, dir, name, data string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestClientErrors(t *testing.T) {
	p := pki(t)
	dir := t.TempDir()
	dev := Options{CAFile: p.CA.CertFile, CertFile: p.Device.CertFile, KeyFile: p.Device.KeyFile}
	with := func(f func(o *Options)) Options { o := dev; f(&o); return o }
	notPEM := write(t, dir, "junk.pem", "hello\n", 0o600)
	otherCA, err := tlstest.NewCA(t.TempDir(), "other")
	if err != nil {
		t.Fatal(err)
	}
	other := issue(t, otherCA, "other-dev", tlstest.Options{})
	expired := issue(t, p.CA, "expired", tlstest.Options{NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	future := issue(t, p.CA, "future", tlstest.Options{NotBefore: time.Now().Add(24 * time.Hour)})
	serverOnly := issue(t, p.CA, "server-only", tlstest.Options{Usage: tlstest.Server})
	codeSign := issue(t, p.CA, "codesign", tlstest.Options{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}})
	loose := issue(t, p.CA, "loose", tlstest.Options{KeyMode: 0o640})
	worldKey := issue(t, p.CA, "world", tlstest.Options{KeyMode: 0o604})

	cases := []struct {
		name  string
		o     Options
		want  []string // substrings of the error
		errIs error
	}{
		{"no CA", with(func(o *Options) { o.CAFile = "" }), []string{"no CA file"}, nil},
		{"no cert", with(func(o *Options) { o.CertFile = "" }), []string{"no certificate file"}, nil},
		{"no key", with(func(o *Options) { o.KeyFile = "" }), []string{"exactly one of a key file and a signer"}, nil},
		{"key and signer", with(func(o *Options) { o.Signer = p.Device.Key }), []string{"exactly one"}, nil},
		{"TLS 1.1", with(func(o *Options) { o.MinVersion = tls.VersionTLS11 }), []string{"not allowed"}, nil},
		{"CA missing", with(func(o *Options) { o.CAFile = filepath.Join(dir, "nope.pem") }), []string{"CA file", "nope.pem"}, fs.ErrNotExist},
		{"CA unreadable (directory)", with(func(o *Options) { o.CAFile = dir }), []string{"CA file " + dir}, nil},
		{"CA not PEM", with(func(o *Options) { o.CAFile = notPEM }), []string{"CA file " + notPEM, "not PEM"}, nil},
		{"CA is a key", with(func(o *Options) { o.CAFile = p.Device.KeyFile }), []string{"CA file", `"PRIVATE KEY"`}, nil},
		{"cert missing", with(func(o *Options) { o.CertFile = filepath.Join(dir, "dev.pem") }), []string{"certificate", "dev.pem"}, fs.ErrNotExist},
		{"cert not PEM", with(func(o *Options) { o.CertFile = notPEM }), []string{"certificate " + notPEM, "not PEM"}, nil},
		{"key missing", with(func(o *Options) { o.KeyFile = filepath.Join(dir, "dev.key") }), []string{"key file", "dev.key"}, fs.ErrNotExist},
		{"key not PEM", with(func(o *Options) { o.KeyFile = notPEM }), []string{"key file " + notPEM, "not PEM"}, nil},
		{"key is a cert", with(func(o *Options) { o.KeyFile = write(t, dir, "cert-as-key", readString(t, p.Device.CertFile), 0o600) }), []string{"is not a private key"}, nil},
		{"key of another cert", with(func(o *Options) { o.KeyFile = p.Monitor.KeyFile }), []string{"key file " + p.Monitor.KeyFile, "does not match the certificate in " + p.Device.CertFile}, nil},
		{"signer of another cert", with(func(o *Options) { o.KeyFile = ""; o.Signer = other.Key }), []string{"signer does not match"}, nil},
		{"expired", with(func(o *Options) { o.CertFile, o.KeyFile = expired.CertFile, expired.KeyFile }), []string{"certificate " + expired.CertFile, "expired on"}, ErrCertTime},
		{"not yet valid", with(func(o *Options) { o.CertFile, o.KeyFile = future.CertFile, future.KeyFile }), []string{"certificate " + future.CertFile, "not valid before"}, ErrCertTime},
		{"valid cert, clock in 1970", with(func(o *Options) { o.Now = func() time.Time { return time.Unix(86400, 0) } }), []string{"not valid before", "1970-01-02"}, ErrCertTime},
		{"server-only cert", with(func(o *Options) { o.CertFile, o.KeyFile = serverOnly.CertFile, serverOnly.KeyFile }), []string{serverOnly.CertFile, "does not allow client authentication"}, nil},
		{"code-signing cert", with(func(o *Options) { o.CertFile, o.KeyFile = codeSign.CertFile, codeSign.KeyFile }), []string{"does not allow client authentication"}, nil},
		{"key mode 0640", with(func(o *Options) { o.CertFile, o.KeyFile = loose.CertFile, loose.KeyFile }), []string{loose.KeyFile, "0640", "chmod 600"}, ErrKeyPermissions},
		{"key mode 0604", with(func(o *Options) { o.CertFile, o.KeyFile = worldKey.CertFile, worldKey.KeyFile }), []string{"chmod 600"}, ErrKeyPermissions},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Client(c.o)
			if err == nil {
				t.Fatalf("Client succeeded (%v), want error", cfg != nil)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "tlsconf: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			if c.errIs != nil && !errors.Is(err, c.errIs) {
				t.Errorf("error %q is not %v", err, c.errIs)
			}
		})
	}
}

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestClientConfig(t *testing.T) {
	p := pki(t)
	cfg, err := Client(Options{CAFile: p.CA.CertFile, CertFile: p.Device.CertFile, KeyFile: p.Device.KeyFile, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion != tls.VersionTLS12 {
		t.Errorf("MinVersion = %#x", cfg.MinVersion)
	}
	if cfg.RootCAs == nil || !cfg.RootCAs.Equal(poolOf(p.CA.Cert)) {
		t.Error("RootCAs is not exactly the CA file")
	}
	if len(cfg.Certificates) != 1 || cfg.Certificates[0].Leaf.Subject.CommonName != "MA-0001" {
		t.Errorf("Certificates = %+v", cfg.Certificates)
	}
	if cfg.ServerName != "localhost" {
		t.Errorf("ServerName = %q", cfg.ServerName)
	}
}

func poolOf(c *x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c)
	return p
}

// countingSigner proves that Options.Signer is the key used in the handshake.
type countingSigner struct {
	crypto.Signer
	n int
}

func (s *countingSigner) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	s.n++
	return s.Signer.Sign(r, d, o)
}

// serve runs a TLS server that requires a client certificate from clientCA
// and returns its address; the handshake result goes to the channel.
func serve(t *testing.T, cert *tlstest.Cert, clientCA *x509.Certificate) (string, <-chan error) {
	t.Helper()
	srv := tls.Certificate{Certificate: [][]byte{cert.Cert.Raw}, PrivateKey: cert.Key}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{srv},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    poolOf(clientCA),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		done <- c.(*tls.Conn).Handshake()
	}()
	return ln.Addr().String(), done
}

func TestHandshake(t *testing.T) {
	p := pki(t)
	otherCA, err := tlstest.NewCA(t.TempDir(), "evil CA")
	if err != nil {
		t.Fatal(err)
	}
	evilBroker := issue(t, otherCA, "evil-broker", tlstest.Options{DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, Usage: tlstest.Server})

	t.Run("key file", func(t *testing.T) {
		addr, srv := serve(t, p.Broker, p.CA.Cert)
		cfg, err := Client(Options{CAFile: p.CA.CertFile, CertFile: p.Device.CertFile, KeyFile: p.Device.KeyFile})
		if err != nil {
			t.Fatal(err)
		}
		c, err := tls.Dial("tcp", addr, cfg)
		if err != nil {
			t.Fatalf("handshake: %v", err)
		}
		if v := c.ConnectionState().Version; v != tls.VersionTLS13 {
			t.Errorf("negotiated %#x, want TLS 1.3", v)
		}
		c.Close()
		if err := <-srv; err != nil {
			t.Fatalf("server: %v", err)
		}
	})
	t.Run("signer", func(t *testing.T) {
		addr, srv := serve(t, p.Broker, p.CA.Cert)
		s := &countingSigner{Signer: p.Device.Key}
		cfg, err := Client(Options{CAFile: p.CA.CertFile, CertFile: p.Device.CertFile, Signer: s})
		if err != nil {
			t.Fatal(err)
		}
		c, err := tls.Dial("tcp", addr, cfg)
		if err != nil {
			t.Fatalf("handshake: %v", err)
		}
		c.Close()
		if err := <-srv; err != nil {
			t.Fatalf("server: %v", err)
		}
		if s.n == 0 {
			t.Error("the signer was never asked to sign")
		}
	})
	t.Run("broker from another CA refused", func(t *testing.T) {
		addr, _ := serve(t, evilBroker, p.CA.Cert)
		cfg, err := Client(Options{CAFile: p.CA.CertFile, CertFile: p.Device.CertFile, KeyFile: p.Device.KeyFile})
		if err != nil {
			t.Fatal(err)
		}
		c, err := tls.Dial("tcp", addr, cfg)
		if err == nil {
			c.Close()
			t.Fatal("handshake with a broker from another CA succeeded")
		}
		var uerr x509.UnknownAuthorityError
		if !errors.As(err, &uerr) {
			t.Errorf("err = %v, want an unknown authority error", err)
		}
	})
	t.Run("wrong server name refused", func(t *testing.T) {
		addr, _ := serve(t, p.Broker, p.CA.Cert)
		cfg, err := Client(Options{CAFile: p.CA.CertFile, CertFile: p.Device.CertFile, KeyFile: p.Device.KeyFile, ServerName: "broker.example"})
		if err != nil {
			t.Fatal(err)
		}
		if c, err := tls.Dial("tcp", addr, cfg); err == nil {
			c.Close()
			t.Fatal("handshake with a mismatched server name succeeded")
		}
	})
}
