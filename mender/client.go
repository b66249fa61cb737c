package mender

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"medagent/handoff"
	"medagent/internal/ctxsleep"
)

// Installer is where the client hands a downloaded artifact: the hand-off
// to acquire (handoff.Producer).
type Installer interface {
	// WorkDir is where downloads in progress are kept (on the hand-off's
	// file system, so that Submit moves them in by rename).
	WorkDir() string
	Submit(ctx context.Context, it handoff.Item) (string, error)
	State(id string) (handoff.State, error)
}

// Device is what the client reports about the device.
type Device interface {
	// Provides is what the device runs now; at least device_type and
	// artifact_name.
	Provides() (map[string]string, error)
	// Inventory is the attributes an operator sees.
	Inventory() ([]Attribute, error)
}

// Attribute is one inventory attribute (a string, a number or a list of
// either).
type Attribute struct {
	Name        string `json:"name"`
	Value       any    `json:"value"`
	Description string `json:"description,omitempty"`
}

// Client talks to a Mender server.
type Client struct {
	o         Options
	log       *slog.Logger
	signer    crypto.Signer
	pub       string // PKIX PEM of signer
	idData    string
	keys      []crypto.PublicKey // update keys the artifact must verify with
	base      *url.URL
	http      *http.Client
	inst      Installer
	dev       Device
	statePath string

	// Seams for tests.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
	rand  func() float64

	mu  sync.Mutex
	jwt string // in memory only
	st  Status
}

// Status is what `medagent status` shows about the fleet server.
type Status struct {
	Enabled bool
	// Auth is "none", "pending acceptance", "accepted" or "error".
	Auth        string
	AuthSince   time.Time
	AuthTries   int
	NextTry     time.Time
	LastError   string
	LastPoll    time.Time
	Deployment  string // id of the deployment in progress
	DeployState string // its last reported status
	Artifact    string
	Downloaded  int64
}

// New checks o and returns a client that authenticates with signer and
// hands artifacts to inst. With keys, it verifies each artifact with them
// first and fails the deployment at once when it does not verify; acquire
// verifies again in any case with all the device's update keys (a caller
// whose keys may be incomplete, such as keys rotated into acquire's
// keyring, passes none and leaves the verdict to acquire).
func New(o Options, deviceID string, signer crypto.Signer, keys []crypto.PublicKey, inst Installer, dev Device, log *slog.Logger) (*Client, error) {
	o.ensureDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	switch {
	case signer == nil:
		return nil, errors.New("mender: no device key")
	case inst == nil || dev == nil || log == nil:
		return nil, errors.New("mender: installer, device and logger are required")
	}
	pub, err := publicKeyPEM(signer)
	if err != nil {
		return nil, err
	}
	id, err := identityData(&o, deviceID, os.ReadFile)
	if err != nil {
		return nil, err
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CAFile != "" {
		b, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("mender: ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("mender: ca_file %s: no PEM certificate in it", o.CAFile)
		}
		tc.RootCAs = pool
	}
	base, _ := url.Parse(o.ServerURL) // checked by validate
	base.Path = ""
	if err := os.MkdirAll(o.StateDir, 0o750); err != nil {
		return nil, fmt.Errorf("mender: state_dir: %w", err)
	}
	c := &Client{
		o: o, log: log, signer: signer, pub: pub, idData: id, keys: keys, base: base,
		http: &http.Client{
			Transport: &http.Transport{TLSClientConfig: tc, Proxy: http.ProxyFromEnvironment, ResponseHeaderTimeout: o.RequestTimeout},
			// Redirects only to https, and never more than 3.
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if req.URL.Scheme != "https" || len(via) > 3 {
					return fmt.Errorf("mender: redirect to %s refused", req.URL.Redacted())
				}
				return nil
			},
		},
		inst: inst, dev: dev, statePath: o.StateDir + "/deployment.json",
		now: time.Now, sleep: ctxsleep.Sleep, rand: rand.Float64,
		st: Status{Enabled: true, Auth: "none"},
	}
	return c, nil
}

// Status returns a snapshot.
func (c *Client) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st
}

func (c *Client) update(f func(*Status)) {
	c.mu.Lock()
	f(&c.st)
	c.mu.Unlock()
}

// token returns the JWT, authenticating once if there is none. It does not
// wait: a device not accepted yet gets ErrNotAccepted.
func (c *Client) token(ctx context.Context) (string, error) {
	c.mu.Lock()
	t := c.jwt
	c.mu.Unlock()
	if t != "" {
		return t, nil
	}
	return c.authenticate(ctx)
}

// dropToken forgets t (if it is still the current token).
func (c *Client) dropToken(t string) {
	c.mu.Lock()
	if c.jwt == t {
		c.jwt = ""
	}
	c.mu.Unlock()
}

// authenticate sends the signed auth request.
func (c *Client) authenticate(ctx context.Context) (string, error) {
	body, err := jsonBody(authRequest{IDData: c.idData, PubKey: c.pub, TenantToken: c.o.TenantToken})
	if err != nil {
		return "", err
	}
	sig, err := signRequest(c.signer, body)
	if err != nil {
		return "", err
	}
	hdr := http.Header{"X-Men-Signature": []string{sig}}
	code, b, resp, err := c.do(ctx, "auth request", http.MethodPost, pathAuth, nil, body, "", hdr)
	now := c.now()
	if err != nil {
		c.update(func(s *Status) { s.LastError = err.Error() })
		return "", err
	}
	switch code {
	case http.StatusOK:
		t, err := parseToken(b)
		if err != nil {
			return "", err
		}
		c.mu.Lock()
		c.jwt = t
		if c.st.Auth != "accepted" {
			c.st.Auth, c.st.AuthSince = "accepted", now
		}
		c.st.AuthTries = 0
		c.mu.Unlock()
		c.log.Info("mender: authenticated", "server", c.o.ServerURL)
		return t, nil
	case http.StatusUnauthorized:
		c.update(func(s *Status) {
			if s.Auth != "pending acceptance" {
				s.Auth, s.AuthSince = "pending acceptance", now
			}
			s.AuthTries++
		})
		return "", ErrNotAccepted
	}
	e := c.statusError("auth request", resp, b)
	c.update(func(s *Status) { s.Auth, s.LastError = "error", e.Error() })
	return "", e
}

// backoff is the full-jitter wait before retry n (0-based).
func (c *Client) backoff(n int) time.Duration {
	d := c.o.RetryMin
	for i := 0; i < n && d < c.o.RetryMax; i++ {
		d *= 2
	}
	d = min(d, c.o.RetryMax)
	return time.Duration(c.rand() * float64(d))
}
