package source

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// HTTPOptions configure HTTPClient.
type HTTPOptions struct {
	// CAFile holds the PEM trust anchors of the update server(s). Required.
	CAFile string
	// RedirectHosts are hosts ("host" or "host:port") a redirect may lead
	// to besides the URL's own host, e.g. a CDN. Empty: none.
	RedirectHosts []string
}

// maxRedirects bounds a redirect chain.
const maxRedirects = 5

// HTTPClient returns the client for update downloads (see the package doc).
func HTTPClient(o HTTPOptions) (*http.Client, error) {
	if o.CAFile == "" {
		return nil, errors.New("source: https downloads need the update server's trust anchors (update.ca_file)")
	}
	b, err := os.ReadFile(o.CAFile)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("source: %s holds no PEM certificate", o.CAFile)
	}
	dialer := &net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                  nil, // never from the environment
		DialContext:            dialer.DialContext,
		TLSClientConfig:        &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    15 * time.Second,
		ResponseHeaderTimeout:  30 * time.Second,
		IdleConnTimeout:        60 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
		ForceAttemptHTTP2:      true,
	}
	allowed := o.RedirectHosts
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			return checkRedirect(req, via, allowed)
		},
	}, nil
}

// ErrRedirect is wrapped by a refused redirect.
var ErrRedirect = errors.New("source: redirect refused")

func checkRedirect(req *http.Request, via []*http.Request, allowed []string) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("%w: more than %d redirects", ErrRedirect, maxRedirects)
	}
	if req.URL.Scheme != "https" {
		return fmt.Errorf("%w: to %s (not https)", ErrRedirect, req.URL.Redacted())
	}
	orig := via[0].URL
	if sameHost(req.URL.Host, orig.Host) {
		return nil
	}
	for _, h := range allowed {
		if sameHost(req.URL.Host, h) {
			return nil
		}
	}
	return fmt.Errorf("%w: from host %s to host %s (allow it in update.redirect_hosts)", ErrRedirect, orig.Host, req.URL.Host)
}

// sameHost compares host[:port] forms, port 443 implied.
func sameHost(a, b string) bool { return hostPort(a) == hostPort(b) }

func hostPort(h string) string {
	h = strings.ToLower(h)
	if _, _, err := net.SplitHostPort(h); err != nil {
		return net.JoinHostPort(strings.Trim(h, "[]"), "443")
	}
	return h
}
