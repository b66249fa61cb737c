// Package esttest is a minimal EST (RFC 7030) simplereenroll server for
// tests: it issues certificates from a pkitest factory CA to clients that
// authenticate with a certificate for the same subject.
package esttest

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"medagent/trust/est"
	"medagent/trust/provision/pkitest"
)

// Server is a running EST server.
type Server struct {
	*httptest.Server
	CA       *pkitest.CA
	Lifetime time.Duration // of issued certificates; default 90 days

	mu       sync.Mutex
	fail     int // fail this many next requests with HTTP 503
	requests int
	// Issue, if set, replaces normal issuance (to return bad certificates).
	Issue func(req *x509.CertificateRequest) (*x509.Certificate, error)
}

// New starts a TLS server with serverCert, requiring client certificates
// that chain to clientRoots.
func New(ca *pkitest.CA, serverCert tls.Certificate, clientRoots *x509.CertPool) *Server {
	s := &Server{CA: ca, Lifetime: 90 * 24 * time.Hour}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.handle))
	s.Server.TLS = &tls.Config{
		Certificates: []tls.Certificate{serverCert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    clientRoots,
	}
	s.StartTLS()
	return s
}

// FailNext makes the next n requests fail with 503.
func (s *Server) FailNext(n int) { s.mu.Lock(); s.fail = n; s.mu.Unlock() }

// Requests returns how many requests arrived.
func (s *Server) Requests() int { s.mu.Lock(); defer s.mu.Unlock(); return s.requests }

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	fail := s.fail > 0
	if fail {
		s.fail--
	}
	s.mu.Unlock()
	if fail {
		http.Error(w, "CA unavailable", http.StatusServiceUnavailable)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != est.Path {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/pkcs10" {
		http.Error(w, "want application/pkcs10, got "+ct, http.StatusUnsupportedMediaType)
		return
	}
	b, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	der, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		http.Error(w, "body not base64", http.StatusBadRequest)
		return
	}
	req, err := x509.ParseCertificateRequest(der)
	if err != nil || req.CheckSignature() != nil {
		http.Error(w, "bad CSR", http.StatusBadRequest)
		return
	}
	peer := r.TLS.PeerCertificates[0]
	if req.Subject.CommonName != peer.Subject.CommonName {
		http.Error(w, fmt.Sprintf("re-enroll subject %q differs from client %q", req.Subject.CommonName, peer.Subject.CommonName), http.StatusForbidden)
		return
	}
	issue := s.Issue
	if issue == nil {
		issue = func(req *x509.CertificateRequest) (*x509.Certificate, error) {
			return s.CA.Device(req.PublicKey, req.Subject.SerialNumber, pkitest.DeviceOptions{NotAfter: time.Now().Add(s.Lifetime)})
		}
	}
	c, err := issue(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	p7, err := est.MarshalCertsOnly([]*x509.Certificate{c, s.CA.Cert})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/pkcs7-mime; smime-type=certs-only")
	w.Header().Set("Content-Transfer-Encoding", "base64")
	io.WriteString(w, base64.StdEncoding.EncodeToString(p7))
}
