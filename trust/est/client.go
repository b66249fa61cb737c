package est

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Path is the simplereenroll path below the EST server URL.
const Path = "/.well-known/est/simplereenroll"

const maxBody = 1 << 20

// RetryLaterError is returned for 202 Accepted: the CA will have the
// certificate later.
type RetryLaterError struct{ After time.Duration }

func (e *RetryLaterError) Error() string {
	return fmt.Sprintf("est: server asks to retry in %s", e.After)
}

// Client talks to one EST server.
type Client struct {
	URL  string // e.g. https://est.example:8443 (no trailing path)
	HTTP *http.Client
}

// NewClient returns a client using tlsConf (mutual TLS with the current
// device certificate).
func NewClient(url string, tlsConf *tls.Config) *Client {
	return &Client{URL: strings.TrimRight(url, "/"), HTTP: &http.Client{
		Timeout:   2 * time.Minute,
		Transport: &http.Transport{TLSClientConfig: tlsConf, ForceAttemptHTTP2: true},
	}}
}

// SimpleReenroll sends a PEM or DER CSR and returns the certificates of
// the response as a PEM chain, in the server's order (new certificate first).
func (c *Client) SimpleReenroll(ctx context.Context, csr []byte) ([]byte, error) {
	if b, _ := pem.Decode(csr); b != nil {
		csr = b.Bytes
	}
	body := base64.StdEncoding.EncodeToString(csr)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL+Path, strings.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("est: %w", err)
	}
	req.Header.Set("Content-Type", "application/pkcs10")
	req.Header.Set("Content-Transfer-Encoding", "base64")
	rsp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("est: simplereenroll: %w", err)
	}
	defer rsp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(rsp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("est: read response: %w", err)
	}
	if len(b) > maxBody {
		return nil, fmt.Errorf("est: response larger than %d bytes", maxBody)
	}
	switch rsp.StatusCode {
	case http.StatusOK:
	case http.StatusAccepted:
		after := 10 * time.Minute
		if s, err := strconv.Atoi(rsp.Header.Get("Retry-After")); err == nil && s > 0 {
			after = time.Duration(s) * time.Second
		}
		return nil, &RetryLaterError{After: after}
	default:
		msg := string(b[:min(len(b), 200)])
		return nil, fmt.Errorf("est: simplereenroll: HTTP %d: %q", rsp.StatusCode, msg)
	}
	mt, _, err := mime.ParseMediaType(rsp.Header.Get("Content-Type"))
	if err != nil || mt != "application/pkcs7-mime" {
		return nil, fmt.Errorf("est: response Content-Type %q, want application/pkcs7-mime", rsp.Header.Get("Content-Type"))
	}
	der, err := base64.StdEncoding.DecodeString(strings.Map(dropSpace, string(b)))
	if err != nil {
		return nil, fmt.Errorf("est: response is not base64: %w", err)
	}
	certs, err := ParseCertsOnly(der)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	for _, c := range certs {
		pem.Encode(&out, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return out.Bytes(), nil
}

func dropSpace(r rune) rune {
	if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
		return -1
	}
	return r
}
