package est

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"medagent/internal/ctxsleep"
	"medagent/trust/provision"
)

// Options configure a Renewer.
type Options struct {
	URL      string                      // EST server, required
	TLS      func() (*tls.Config, error) // current mutual-TLS config (re-read each attempt); required
	Signer   crypto.Signer               // the device key; required
	Root     *x509.Certificate           // manufacturer root; required
	Serial   string                      // device serial; required
	CertFile string                      // device chain (leaf, intermediate); required
	CRLs     func() []*x509.RevocationList

	Window     time.Duration // renew when expiring within; default 30 days
	CheckEvery time.Duration // longest sleep between checks; default 12 h
	MinBackoff time.Duration // first retry delay; default 1 min
	MaxBackoff time.Duration // retry delay cap; default 6 h
	Logger     *slog.Logger  // default slog.Default()
	Now        func() time.Time
}

func (o *Options) ensureDefaults() {
	if o.Window <= 0 {
		o.Window = 30 * 24 * time.Hour
	}
	if o.CheckEvery <= 0 {
		o.CheckEvery = 12 * time.Hour
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = time.Minute
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(6*time.Hour, o.MinBackoff)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Status is the renewer's last outcome.
type Status struct {
	NotAfter    time.Time // of the installed certificate
	LastAttempt time.Time
	LastSuccess time.Time
	LastError   string
	Failures    int // consecutive
	NextCheck   time.Time
}

// Renewer keeps the device certificate fresh.
type Renewer struct {
	o     Options
	mu    sync.Mutex
	st    Status
	sleep func(ctx context.Context, d time.Duration) error // test seam
}

// New checks o and returns a Renewer.
func New(o Options) (*Renewer, error) {
	o.ensureDefaults()
	if o.URL == "" || o.TLS == nil || o.Signer == nil || o.Root == nil || o.Serial == "" || o.CertFile == "" {
		return nil, errors.New("est: URL, TLS, Signer, Root, Serial and CertFile are required")
	}
	return &Renewer{o: o, sleep: ctxsleep.Sleep}, nil
}

// Status returns a copy of the current status.
func (r *Renewer) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.st
}

// Run renews until ctx ends; it returns nil on cancellation.
func (r *Renewer) Run(ctx context.Context) error {
	for {
		d := r.step(ctx)
		r.mu.Lock()
		r.st.NextCheck = r.o.Now().Add(d)
		r.mu.Unlock()
		if err := r.sleep(ctx, d); err != nil {
			return nil // cancelled: a clean exit
		}
	}
}

// step checks once, renewing if due, and returns how long to wait.
func (r *Renewer) step(ctx context.Context) time.Duration {
	now := r.o.Now()
	cur, err := currentLeaf(r.o.CertFile)
	if err != nil {
		return r.fail(now, err)
	}
	r.mu.Lock()
	r.st.NotAfter = cur.NotAfter
	r.mu.Unlock()
	due := cur.NotAfter.Add(-r.o.Window)
	if now.Before(due) {
		return min(due.Sub(now), r.o.CheckEvery)
	}
	leaf, err := r.renew(ctx, now)
	if err != nil {
		return r.fail(now, err)
	}
	r.mu.Lock()
	r.st = Status{NotAfter: leaf.NotAfter, LastAttempt: now, LastSuccess: now}
	r.mu.Unlock()
	r.o.Logger.Info("certificate renewed", "not_after", leaf.NotAfter.UTC().Format(time.RFC3339))
	// A CA issuing certificates shorter than Window must not make a tight loop.
	return max(min(leaf.NotAfter.Add(-r.o.Window).Sub(now), r.o.CheckEvery), r.o.MinBackoff)
}

func (r *Renewer) fail(now time.Time, err error) time.Duration {
	r.mu.Lock()
	r.st.LastAttempt, r.st.LastError = now, err.Error()
	r.st.Failures++
	n := r.st.Failures
	r.mu.Unlock()
	d := r.o.MinBackoff
	for i := 1; i < n && d < r.o.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, r.o.MaxBackoff)
	var later *RetryLaterError
	if errors.As(err, &later) {
		d = min(max(d, later.After), r.o.MaxBackoff)
	}
	r.o.Logger.Warn("certificate renewal failed; keeping the current certificate", "err", err, "failures", n, "retry_in", d)
	return d
}

func (r *Renewer) renew(ctx context.Context, now time.Time) (*x509.Certificate, error) {
	tc, err := r.o.TLS()
	if err != nil {
		return nil, fmt.Errorf("est: TLS config: %w", err)
	}
	csr, err := provision.CSR(r.o.Signer, r.o.Serial)
	if err != nil {
		return nil, err
	}
	chain, err := NewClient(r.o.URL, tc).SimpleReenroll(ctx, csr)
	if err != nil {
		return nil, err
	}
	certs, err := provision.ParseChain(chain)
	if err != nil {
		return nil, err
	}
	if len(certs) == 1 {
		// Only the leaf came back: the issuing CA is the current one.
		old, err := os.ReadFile(r.o.CertFile)
		if err != nil {
			return nil, fmt.Errorf("est: %w", err)
		}
		oc, err := provision.ParseChain(old)
		if err != nil {
			return nil, err
		}
		for _, c := range oc[1:] {
			chain = append(chain, pemOf(c)...)
		}
	}
	o := provision.Options{Root: r.o.Root, Public: r.o.Signer.Public(), Now: now, Serial: r.o.Serial, CertFile: r.o.CertFile}
	if r.o.CRLs != nil {
		o.CRLs = r.o.CRLs()
	}
	leaf, err := provision.Install(chain, o)
	if err != nil {
		return nil, fmt.Errorf("est: new certificate refused: %w", err)
	}
	return leaf, nil
}

func currentLeaf(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("est: current certificate: %w", err)
	}
	c, err := provision.ParseChain(b)
	if err != nil {
		return nil, err
	}
	return c[0], nil
}
