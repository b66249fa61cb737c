package uplink

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"medagent/spool"
	"medagent/tlsconf"
)

// errShutdownGrace ends the wait for outstanding PUBACKs at shutdown.
var errShutdownGrace = errors.New("uplink: shutdown grace period over")

// errTimeout is returned when a token does not complete in time.
var errTimeout = errors.New("timed out")

const (
	statusOnline  = "online"
	statusOffline = "offline"
)

// inflight is a published record waiting for its PUBACK.
type inflight struct {
	tok mqtt.Token
	rec spool.Record
}

// clientOptions are the MQTT client's options for one session with broker;
// opened is called when TLS is up (the CONNECT goes next), lost when the
// connection breaks.
func (u *Uplink) clientOptions(ctx context.Context, broker string, opened func(), lost context.CancelCauseFunc) *mqtt.ClientOptions {
	o := mqtt.NewClientOptions().
		AddBroker(broker).
		SetClientID(u.opts.DeviceID).
		SetCustomOpenConnectionFn(u.opener(u.tls, func(err error) { u.setDown(broker, err != nil) }, opened, lost)).
		SetProtocolVersion(4). // MQTT 3.1.1
		// A persistent session: the broker keeps the command subscription
		// and the QoS 1 messages for it across a reconnect, to any node of
		// a cluster. What the device has not sent yet is in the spool, which
		// the uplink rewinds and sends again (the client's own store is new
		// for each session).
		SetCleanSession(false).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetKeepAlive(u.opts.KeepAlive).
		SetPingTimeout(min(u.opts.KeepAlive, 10*time.Second)).
		// The client's deadline covers the whole connect: dial and TLS
		// (bounded by ConnectTimeout in the opener), then the CONNACK.
		SetConnectTimeout(u.opts.ConnectTimeout+u.opts.ConnackTimeout).
		// Publish blocks until the client's writer takes the packet; a
		// connection whose writer takes nothing for 5 s is stuck, and a
		// shutdown must not wait on it for long.
		SetWriteTimeout(min(u.opts.AckTimeout, 5*time.Second)).
		SetWill(u.statusTopic(), statusOffline, 1, true).
		SetStore(mqtt.NewMemoryStore()).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			lost(fmt.Errorf("uplink: connection lost: %w", err))
		})
	if u.opts.Commands != nil {
		// With a persistent session, commands queued while the device was
		// away arrive right after CONNACK, before Subscribe returns.
		o.SetDefaultPublishHandler(u.commandHandler(ctx))
	}
	return o
}

// reloadTLS re-reads the certificate files before each session, so that a
// certificate renewed on disk (trust/est) is used from the next connection.
// If they no longer load, the uplink keeps the configuration it has and
// says so: a half-written renewal never takes the device offline. A
// certificate not valid at the clock's time is returned (with no valid
// configuration to fall back on, any error is): the session then waits.
func (u *Uplink) reloadTLS() error {
	tc, err := tlsconf.Client(u.opts.TLS)
	switch {
	case err == nil:
		u.tls = tc
		u.update(func(s *Status) { s.Waiting = "" })
		return nil
	case errors.Is(err, tlsconf.ErrCertTime):
		u.update(func(s *Status) { s.Waiting = err.Error() })
		return err
	case u.tls == nil:
		return err
	}
	u.log.Warn("uplink: reloading TLS files failed, keeping the previous ones", "err", err)
	return nil
}

// waitToken waits for tok, a timeout, or the end of ctx (whose cause is
// returned).
func waitToken(ctx context.Context, tok mqtt.Token, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-tok.Done():
		return tok.Error()
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return errTimeout
	}
}

// session runs one connection to broker until it breaks or ctx is done.
// connectedFor is how long the broker had accepted it (0 if it never did).
func (u *Uplink) session(ctx context.Context, broker string) (connectedFor time.Duration, err error) {
	// fail ends the session on a broken connection or a spool error; it
	// outlives ctx so that shutdown can still collect PUBACKs.
	fail, failWith := context.WithCancelCause(context.WithoutCancel(ctx))
	defer failWith(nil)
	// A shutdown before the pump runs must not wait for the connect or
	// ack timeout; once it runs, the pump collects PUBACKs first.
	var pumping atomic.Bool
	stop := context.AfterFunc(ctx, func() {
		if !pumping.Load() {
			failWith(context.Canceled)
		}
	})
	defer stop()
	// cause prefers why the session failed (a lost connection, the packet
	// guard) over the error the client reported for it.
	cause := func(err error) error {
		if c := context.Cause(fail); c != nil && !errors.Is(c, context.Canceled) {
			return c
		}
		return err
	}

	if err := u.reloadTLS(); err != nil {
		return 0, fmt.Errorf("uplink: waiting, not connecting: %w", err)
	}
	var tlsAt atomic.Int64 // unix ns when TLS was up, 0 before
	c := mqtt.NewClient(u.clientOptions(ctx, broker, func() { tlsAt.Store(u.now().UnixNano()) }, failWith))
	if err := waitToken(fail, c.Connect(), u.opts.ConnectTimeout+u.opts.ConnackTimeout+time.Second); err != nil {
		c.Disconnect(0)
		if at := tlsAt.Load(); at != 0 {
			// The broker took the connection and held the CONNECT (busy:
			// a cluster recovering), then closed it or we gave up.
			held := u.now().Sub(time.Unix(0, at)).Round(time.Millisecond)
			if errors.Is(err, errTimeout) || errors.Is(err, os.ErrDeadlineExceeded) {
				return 0, fmt.Errorf("uplink: connect %s: no CONNACK within connack_timeout (held %v after TLS)", broker, held)
			}
			return 0, fmt.Errorf("uplink: connect %s: CONNECT held %v after TLS, then: %w", broker, held, cause(err))
		}
		return 0, fmt.Errorf("uplink: connect %s: %w", broker, cause(err))
	}
	connectedAt := u.now()
	connack := connectedAt.Sub(time.Unix(0, tlsAt.Load()))
	since := func() time.Duration { return max(u.now().Sub(connectedAt), time.Nanosecond) }
	u.update(func(s *Status) { s.Connected = true; s.Connects++; s.ConnackWait = connack })
	defer u.update(func(s *Status) { s.Connected = false; s.InFlight = 0 })
	// Subscribe before saying online: an operator who sees "online" may
	// send a command at once, and on a new session a command published
	// before the SUBACK is lost.
	if err := u.subscribeCommands(ctx, fail, c); err != nil {
		c.Disconnect(0)
		return since(), cause(err)
	}
	if err := waitToken(fail, c.Publish(u.statusTopic(), 1, true, statusOnline), u.opts.AckTimeout); err != nil {
		c.Disconnect(0)
		return since(), fmt.Errorf("uplink: publish status: %w", cause(err))
	}
	pumping.Store(true)
	u.log.Info("uplink: connected", "broker", broker, "device", u.opts.DeviceID)

	err = u.pump(ctx, fail, failWith, c)
	if ctx.Err() != nil && (err == nil || errors.Is(err, errShutdownGrace) || errors.Is(err, context.Canceled)) {
		// Clean shutdown: say so, since the will only fires on a broken connection.
		grace, cancel := context.WithTimeout(context.WithoutCancel(ctx), u.opts.ShutdownGrace)
		defer cancel()
		if perr := waitToken(grace, c.Publish(u.statusTopic(), 1, true, statusOffline), u.opts.ShutdownGrace); perr != nil {
			u.log.Warn("uplink: could not publish offline status", "err", perr)
		}
		c.Disconnect(250)
		return since(), nil
	}
	c.Disconnect(0)
	return since(), err
}

// pump publishes records and collects PUBACKs until the session fails or
// ctx is done; at shutdown it waits up to ShutdownGrace for outstanding
// PUBACKs. It returns the session's failure cause, nil on a clean end.
func (u *Uplink) pump(ctx, fail context.Context, failWith context.CancelCauseFunc, c mqtt.Client) error {
	pctx, pcancel := context.WithCancel(ctx)
	defer pcancel()
	stop := context.AfterFunc(fail, pcancel)
	defer stop()

	sem := make(chan struct{}, u.opts.InFlight)
	pending := make(chan inflight, u.opts.InFlight)
	var wg sync.WaitGroup
	wg.Go(func() { u.ackLoop(fail, failWith, pending, sem) })

	err := u.publishLoop(pctx, c, pending, sem)
	close(pending)
	if err != nil {
		failWith(err)
	} else if ctx.Err() != nil {
		t := time.AfterFunc(u.opts.ShutdownGrace, func() { failWith(errShutdownGrace) })
		defer t.Stop()
	}
	wg.Wait()
	return context.Cause(fail)
}

// publishLoop reads records and publishes them while fewer than InFlight
// are outstanding. It returns nil when ctx is done, an error when the
// spool fails.
func (u *Uplink) publishLoop(ctx context.Context, c mqtt.Client, pending chan<- inflight, sem chan struct{}) error {
	for {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		rec, err := u.src.Next(ctx)
		if err != nil {
			<-sem
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("uplink: read spool: %w", err)
		}
		topic, payload, err := u.render(rec)
		if err != nil {
			u.log.Warn("uplink: dropping undecodable record", "class", rec.Class.Topic(), "stream", rec.Stream, "seq", rec.Seq, "err", err)
			u.update(func(s *Status) { s.Undecodable++ })
			aerr := u.src.Ack(rec.ID)
			<-sem
			if aerr != nil {
				return fmt.Errorf("uplink: ack spool: %w", aerr)
			}
			continue
		}
		tok := c.Publish(topic, 1, false, payload)
		u.update(func(s *Status) { s.Published++; s.InFlight++ })
		pending <- inflight{tok, rec} // never blocks: sem bounds it
	}
}

// ackLoop waits for PUBACKs in publish order and acks the records to the
// spool. On the first failure it fails the session and releases the rest
// unacked, for Rewind to send again.
func (u *Uplink) ackLoop(fail context.Context, failWith context.CancelCauseFunc, pending <-chan inflight, sem <-chan struct{}) {
	for p := range pending {
		err := waitToken(fail, p.tok, u.opts.AckTimeout)
		if err == nil {
			if aerr := u.src.Ack(p.rec.ID); aerr != nil {
				err = fmt.Errorf("uplink: ack spool: %w", aerr)
			} else {
				u.update(func(s *Status) { s.Acked++; s.InFlight-- })
				<-sem
				continue
			}
		} else {
			err = fmt.Errorf("uplink: publish %s/%d: %w", p.rec.Stream, p.rec.Seq, err)
		}
		failWith(err) // no-op if the session already failed
		<-sem
		for range pending {
			<-sem
		}
		return
	}
}
