package remote

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"medagent/handoff"
	"medagent/telemetry"
	"medagent/trust/command"
	"medagent/trust/keyring"
	"medagent/update/engine"
)

// Appender is where results and technical events go: the spool writer.
type Appender interface {
	Append(ctx context.Context, class telemetry.Class, stream string, t time.Time, payload []byte) (uint64, error)
}

// Monitor says whether a patient is being monitored (the clinical lock).
type Monitor interface {
	Monitoring(grace time.Duration) bool
}

// Updater is the update engine as remote updates use it.
type Updater interface {
	// InstallWith installs src; o carries a signed command's permission
	// to go below the version floor with exactly that artifact.
	InstallWith(ctx context.Context, src io.Reader, o engine.InstallOptions) error
	Status() engine.Status
}

// Options configure the acquire side.
type Options struct {
	DeviceID string // required
	// Keyring and NonceFile are the command trust (config commands.*);
	// an empty Keyring refuses every command (commands disabled).
	Keyring, NonceFile string
	// KeyringKey authenticates the keyring's sealed copy (keyring.Open; at
	// least 32 bytes, the agent derives it from its TPM-sealed state key).
	// Without it the keyring is refused.
	KeyringKey []byte
	// KeyringAnchor records the sealed keyring's version in TPM NV
	// (trust/floor.KeyringFloor); nil without a TPM.
	KeyringAnchor keyring.Anchor
	// Handoff locates the hand-off; Handle is set by New.
	Handoff handoff.Options
	Spool   Appender // required
	// Patient and Grace are the clinical-use lock of the reboot command.
	Patient Monitor
	Grace   time.Duration
	// Reboot carries out a signed reboot command (the reboot request).
	Reboot func(ctx context.Context) error
	// Updates installs artifacts; nil refuses update commands and items.
	Updates Updater
	// FetchTimeout is how long a verified update command waits for its
	// artifact; default 6 h.
	FetchTimeout time.Duration
	Logger       *slog.Logger
	Now          func() time.Time
	// Audit, if set, records commands accepted or refused and keyring
	// changes in the audit trail (trust/audit).
	Audit func(kind string, fields map[string]string)
	// ArtifactInfo is the root file system's artifact_info
	// (/etc/mender/artifact_info): the running software of a device the
	// update engine has committed nothing on yet. The service publishes the
	// running software for the uplink in the state directory
	// (handoff.Running).
	ArtifactInfo string
}

func (s *Service) audit(kind string, fields map[string]string) {
	if s.o.Audit != nil {
		s.o.Audit(kind, fields)
	}
}

// Service obeys what arrives through the hand-off, in the acquire role.
type Service struct {
	o   Options
	c   *handoff.Consumer
	log *slog.Logger

	mu       sync.Mutex
	ring     *keyring.Ring
	v        *command.Verifier
	trustErr error           // why commands cannot be verified (nil when they can)
	active   map[string]bool // artifact items the worker has taken

	work chan func(ctx context.Context) // slow work (reboot, install), one at a time
}

// ErrBusy: another slow operation (an install, a reboot) is under way.
var ErrBusy = errors.New("remote: another operation is still running")

// New opens the hand-off's consumer side and the command trust. A keyring
// or nonce store that does not load does not fail New: commands are then
// refused with the reason (monitoring never stops for security state),
// and loading is tried again with the next command.
func New(o Options) (*Service, error) {
	if o.DeviceID == "" || o.Spool == nil {
		return nil, errors.New("remote: DeviceID and Spool are required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.FetchTimeout <= 0 {
		o.FetchTimeout = 6 * time.Hour
	}
	s := &Service{o: o, log: o.Logger, work: make(chan func(context.Context), 1), active: map[string]bool{}}
	ho := o.Handoff
	ho.Handle, ho.Logger, ho.Now = s.handle, o.Logger, o.Now
	c, err := handoff.OpenConsumer(ho)
	if err != nil {
		return nil, fmt.Errorf("remote: %w", err)
	}
	s.c = c
	s.loadTrust()
	return s, nil
}

// loadTrust (re)loads the keyring and the nonce store when they are not
// loaded; it returns what it has.
func (s *Service) loadTrust() (*command.Verifier, *keyring.Ring, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.v != nil {
		return s.v, s.ring, nil
	}
	if s.o.Keyring == "" {
		s.trustErr = errors.New("commands are disabled (commands.enabled)")
		return nil, nil, s.trustErr
	}
	ring, opened, err := keyring.Open(s.o.Keyring, s.o.KeyringKey, s.o.KeyringAnchor)
	if opened.Sealed {
		s.log.Info("keyring adopted and sealed", "keyring", s.o.Keyring, "version", ring.Version())
		s.audit("keyring.sealed", map[string]string{"keyring": s.o.Keyring, "version": strconv.Itoa(ring.Version())})
	}
	if opened.Restored != "" {
		s.log.Warn("keyring file refused: the sealed keyring stands", "keyring", s.o.Keyring, "why", opened.Restored, "kept", s.o.Keyring+".rejected")
		s.audit("keyring.edit_refused", map[string]string{"keyring": s.o.Keyring, "reason": opened.Restored, "kept": s.o.Keyring + ".rejected"})
	}
	var v *command.Verifier
	if err == nil {
		v, err = command.NewVerifier(command.Options{DeviceID: s.o.DeviceID, Keys: ring, NonceFile: s.o.NonceFile})
	}
	if err != nil {
		if s.trustErr == nil || s.trustErr.Error() != err.Error() {
			s.log.Error("signed commands unavailable; monitoring goes on", "err", err)
			if errors.Is(err, keyring.ErrTampered) {
				s.audit("keyring.refused", map[string]string{"keyring": s.o.Keyring, "reason": err.Error()})
			}
		}
		s.trustErr = err
		return nil, nil, err
	}
	for _, why := range ring.Ignored() {
		s.log.Warn("keyring key not trusted", "keyring", s.o.Keyring, "why", why)
	}
	if s.trustErr != nil {
		s.log.Info("signed commands available again")
	}
	s.ring, s.v, s.trustErr = ring, v, nil
	return v, ring, nil
}

// TrustError says why commands cannot be verified, nil when they can.
func (s *Service) TrustError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.trustErr
}

// UpdateKeys returns the keyring's update keys as they are now (nil while
// the keyring is unavailable), for the update engine.
func (s *Service) UpdateKeys() []crypto.PublicKey {
	s.mu.Lock()
	ring := s.ring
	s.mu.Unlock()
	if ring == nil {
		return nil
	}
	return ring.UpdateKeys()
}

// Consumer is the hand-off's consumer side (for status and tests).
func (s *Service) Consumer() *handoff.Consumer { return s.c }

// Run settles what a restart interrupted, then takes items from the
// hand-off and runs slow work until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.c.Run(ctx) })
	g.Go(func() error { return s.worker(ctx) })
	g.Go(func() error { return s.watch(ctx) })
	err := g.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// worker runs queued slow work one at a time.
func (s *Service) worker(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case f := <-s.work:
			f(ctx)
		}
	}
}

func (s *Service) queue(f func(context.Context)) error {
	select {
	case s.work <- f:
		return nil
	default:
		return ErrBusy
	}
}

// handle is the consumer's Handle: one new item.
func (s *Service) handle(ctx context.Context, in *handoff.Incoming) {
	switch in.Meta.Kind {
	case handoff.KindCommand:
		defer in.Close()
		s.command(ctx, in)
	case handoff.KindArtifact:
		s.artifact(ctx, in) // closes in
	default:
		in.Close()
	}
}

// set records st; a state that cannot be saved is logged (the item then
// shows its previous phase to the producer).
func (s *Service) set(st handoff.State) {
	if err := s.c.Set(st); err != nil {
		s.log.Error("hand-off state not saved", "item", st.ID, "phase", string(st.Phase), "err", err)
	}
}

// fail records a failure with its reason.
func (s *Service) fail(st handoff.State, reason string) handoff.State {
	st.Phase, st.Reason, st.Fetch = handoff.Failure, reason, nil
	s.set(st)
	s.log.Warn("hand-off item failed", "item", st.ID, "kind", string(st.Kind), "name", st.Name, "reason", reason)
	return st
}

// publish spools a command result for the uplink to publish on cmd-result.
func (s *Service) publish(ctx context.Context, r command.Result) {
	p, err := r.Pack()
	var b []byte
	if err == nil {
		b, err = p.Marshal()
	}
	if err == nil {
		_, err = s.o.Spool.Append(ctx, p.Class, p.Stream, p.Time, b)
	}
	if err != nil && ctx.Err() == nil {
		s.log.Error("spooling a command result failed", "name", r.Name, "status", r.Status, "err", err)
	}
}

// result is the result of the command behind st.
func (s *Service) result(st handoff.State, status, errText string) command.Result {
	r := command.Result{Device: s.o.DeviceID, Nonce: st.Nonce, Name: st.Name, Status: status, Error: errText, At: s.o.Now().UTC()}
	if status == command.StatusAccepted {
		r.Phase = string(st.Phase)
	}
	return r
}
