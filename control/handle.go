package control

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"time"
)

// ErrNoSuchSensor and ErrNoSuchAlarm are returned by Provider functions
// (and wrapped by the client) for a name or id the agent does not know.
var (
	ErrNoSuchSensor = errors.New("no such sensor")
	ErrNoSuchAlarm  = errors.New("no such alarm")
)

func ok(v any) Response {
	b, err := json.Marshal(v)
	if err != nil {
		return fail(CodeFailed, "encode: "+err.Error())
	}
	return Response{V: Version, OK: true, Data: b}
}

// errNoRing answers logs when the agent's logger has no Ring.
var errNoRing = fail(CodeUnavailable, "this agent keeps no log ring (its logger's handler is not a control.Ring); read the journal: journalctl -u medagent")

func unavailable(cmd string) Response {
	return fail(CodeUnavailable, cmd+" is not available in this agent's role")
}

// handle answers one non-streaming request.
func (s *Server) handle(ctx context.Context, req Request) Response {
	p := s.o.Provider
	switch req.Cmd {
	case CmdStatus:
		if p.Status == nil {
			return unavailable(req.Cmd)
		}
		return ok(p.Status(ctx))
	case CmdSensors, CmdSensor:
		if p.Sensors == nil {
			return unavailable(req.Cmd)
		}
		all := p.Sensors(ctx)
		if req.Cmd == CmdSensors {
			return ok(all)
		}
		for _, x := range all {
			if x.Name == req.Name {
				return ok(x)
			}
		}
		return fail(CodeFailed, ErrNoSuchSensor.Error()+": "+req.Name)
	case CmdAlarms:
		if p.Alarms == nil {
			return unavailable(req.Cmd)
		}
		return ok(p.Alarms(ctx))
	case CmdAck:
		if p.Ack == nil {
			return unavailable(req.Cmd)
		}
		if err := p.Ack(ctx, req.ID); err != nil {
			return fail(CodeFailed, err.Error())
		}
		s.log.Info("alarm acknowledged by technician", "alarm", req.ID)
		return ok(struct {
			ID uint64 `json:"id"`
		}{req.ID})
	case CmdSpool:
		if p.Spool == nil {
			return unavailable(req.Cmd)
		}
		st, err := p.Spool(ctx)
		if err != nil && st.Classes == nil {
			return fail(CodeFailed, err.Error())
		}
		return ok(st)
	case CmdCerts:
		if p.Certs == nil {
			return unavailable(req.Cmd)
		}
		return ok(p.Certs(ctx))
	case CmdAudit:
		if p.Audit == nil {
			return unavailable(req.Cmd)
		}
		a, err := p.Audit(ctx)
		if err != nil {
			return fail(CodeFailed, err.Error())
		}
		return ok(a)
	case CmdLogs:
		if s.o.Ring == nil {
			return errNoRing
		}
		return ok(s.o.Ring.Records(since(req)))
	case CmdDiag:
		if p.Diag == nil {
			return unavailable(req.Cmd)
		}
		return ok(p.Diag(ctx))
	case CmdUpdate:
		if p.Update == nil {
			return fail(CodeUnavailable, "this agent runs no update engine (update.enabled is off or this is not the acquire process)")
		}
		s.log.Info("update requested by technician", "op", req.Op, "artifact", req.Arg)
		st, err := p.Update(ctx, req.Op, req.Arg)
		if err != nil {
			return fail(CodeFailed, err.Error())
		}
		return ok(st)
	case CmdSelftest:
		if p.Selftest == nil {
			return unavailable(req.Cmd)
		}
		return ok(p.Selftest(ctx))
	}
	return fail(CodeBadRequest, "unknown command "+req.Cmd)
}

func since(req Request) time.Time {
	if req.SinceMS == 0 {
		return time.Time{}
	}
	return time.Now().Add(-time.Duration(req.SinceMS) * time.Millisecond)
}

// closed ends when the client closes its side (it sends nothing more).
func closed(c net.Conn) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		var b [1]byte
		for {
			if _, err := c.Read(b[:]); err != nil {
				return
			}
		}
	}()
	return done
}

// watch streams the sensors every interval until the client or ctx ends.
func (s *Server) watch(ctx context.Context, c net.Conn, req Request) {
	if s.o.Provider.Sensors == nil {
		writeResp(c, unavailable(req.Cmd))
		return
	}
	d := time.Duration(req.IntervalMS) * time.Millisecond
	if d == 0 {
		d = time.Second
	}
	d = max(d, 100*time.Millisecond)
	gone := closed(c)
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		if writeResp(c, ok(s.o.Provider.Sensors(ctx))) != nil {
			c.Close()
			<-gone
			return
		}
		select {
		case <-ctx.Done():
			c.Close()
			<-gone
			return
		case <-gone:
			return
		case <-t.C:
		}
	}
}

// follow streams the log backlog, then every new record.
func (s *Server) follow(ctx context.Context, c net.Conn, req Request) {
	if s.o.Ring == nil {
		writeResp(c, errNoRing)
		return
	}
	backlog, next, cancel := s.o.Ring.Follow(since(req))
	defer cancel()
	gone := closed(c)
	defer func() { c.Close(); <-gone }()
	for _, r := range backlog {
		if writeResp(c, ok(r)) != nil {
			return
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-gone:
			return
		case r := <-next:
			if writeResp(c, ok(r)) != nil {
				return
			}
		}
	}
}
