package source

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestOpenFileRefusals: only a regular file inside the allowed directory
// opens; a FIFO (no writer), a device node, a symlink (out of the
// directory or not) and ".." are refused at once.
func TestOpenFileRefusals(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "good.mender"), []byte("artifact"), 0o644))
	must(os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o600))
	must(syscall.Mkfifo(filepath.Join(dir, "fifo.mender"), 0o644))
	must(os.Symlink(filepath.Join(outside, "secret"), filepath.Join(dir, "out.mender")))
	must(os.Symlink("good.mender", filepath.Join(dir, "in.mender")))
	must(os.Symlink("/dev/zero", filepath.Join(dir, "dev.mender")))
	must(os.Mkdir(filepath.Join(dir, "sub"), 0o755))

	f, err := OpenFile(dir, filepath.Join(dir, "good.mender"))
	must(err)
	b, _ := io.ReadAll(f)
	f.Close()
	if string(b) != "artifact" {
		t.Fatalf("read %q", b)
	}
	if f, err := OpenFile(dir, "good.mender"); err != nil {
		t.Fatalf("relative name: %v", err)
	} else {
		f.Close()
	}

	for name, want := range map[string]string{
		filepath.Join(dir, "fifo.mender"): "FIFO",
		"/dev/null":                       "not inside",
		filepath.Join(dir, "dev.mender"):  "symbolic link",
		filepath.Join(dir, "out.mender"):  "symbolic link",
		filepath.Join(dir, "sub", "..", "..", filepath.Base(outside), "secret"): "not inside",
		filepath.Join(dir, "in.mender"):                                         "symbolic link",
		filepath.Join(dir, "..", "x", "a.mender"):                               "not inside",
		"../" + filepath.Base(outside) + "/secret":                              "not inside",
		filepath.Join(dir, "sub"):                                               "directory",
		filepath.Join(outside, "secret"):                                        "not inside",
		filepath.Join(dir, "missing.mender"):                                    "no such file",
	} {
		done := make(chan error, 1)
		go func() {
			f, err := OpenFile(dir, name)
			if f != nil {
				f.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %v, want a refusal naming %q", name, err, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: OpenFile blocked", name)
		}
	}
	if _, err := OpenFile("", filepath.Join(dir, "good.mender")); !errors.Is(err, ErrRefused) {
		t.Errorf("no allowed directory: %v", err)
	}
}

func tlsServer(t *testing.T, h http.Handler) (*httptest.Server, string) {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	return srv, ca
}

// TestHTTPClient: the configured anchor is trusted (and only it), a
// redirect to another host is refused unless allowed, to http never.
func TestHTTPClient(t *testing.T) {
	other, otherCA := tlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "other") }))
	var srv *httptest.Server
	srv, ca := tlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/a":
			io.WriteString(w, "artifact")
		case "/same":
			http.Redirect(w, r, "/a", http.StatusFound)
		case "/cross":
			http.Redirect(w, r, other.URL+"/x", http.StatusFound)
		case "/plain":
			http.Redirect(w, r, "http://"+r.Host+"/a", http.StatusFound)
		}
	}))
	// One CA file with both test servers' certificates.
	both := filepath.Join(t.TempDir(), "both.pem")
	b1, _ := os.ReadFile(ca)
	b2, _ := os.ReadFile(otherCA)
	os.WriteFile(both, append(b1, b2...), 0o644)
	get := func(c *http.Client, url string) (string, error) {
		resp, err := c.Get(url)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	c, err := HTTPClient(HTTPOptions{CAFile: both})
	if err != nil {
		t.Fatal(err)
	}
	if s, err := get(c, srv.URL+"/same"); err != nil || s != "artifact" {
		t.Errorf("same-host redirect: %q %v", s, err)
	}
	if _, err := get(c, srv.URL+"/cross"); !errors.Is(err, ErrRedirect) {
		t.Errorf("cross-host redirect: %v, want ErrRedirect", err)
	}
	if _, err := get(c, srv.URL+"/plain"); !errors.Is(err, ErrRedirect) {
		t.Errorf("redirect to http: %v, want ErrRedirect", err)
	}
	allowed, _ := HTTPClient(HTTPOptions{CAFile: both, RedirectHosts: []string{strings.TrimPrefix(other.URL, "https://")}})
	if s, err := get(allowed, srv.URL+"/cross"); err != nil || s != "other" {
		t.Errorf("allowed cross-host redirect: %q %v", s, err)
	}
	// Only the configured anchor: a CA file with another certificate does
	// not trust this server (httptest servers share one certificate, so
	// the other anchor is made here).
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "other CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	stranger := filepath.Join(t.TempDir(), "stranger.pem")
	os.WriteFile(stranger, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	onlyOther, err := HTTPClient(HTTPOptions{CAFile: stranger})
	if err != nil {
		t.Fatal(err)
	}
	var ue *tls.CertificateVerificationError
	if _, err := get(onlyOther, srv.URL+"/a"); !errors.As(err, &ue) {
		t.Errorf("untrusted server: %v", err)
	}
	if _, err := HTTPClient(HTTPOptions{}); err == nil {
		t.Error("client without trust anchors")
	}
}
