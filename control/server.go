package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// Options configure a Server.
type Options struct {
	// Path of the socket; empty means DefaultSocket.
	Path     string
	Provider Provider
	// Ring serves "logs"; nil answers "unavailable".
	Ring   *Ring
	Logger *slog.Logger
	// MaxConns bounds concurrent connections (default 8).
	MaxConns int
	// Audit, if set, is told of every technician action that changes
	// something (ack, update other than status) and of every refused
	// connection, with the caller's credentials and the outcome.
	Audit func(p Peer, req Request, resp Response)
}

// changes reports a request that changes the device's state.
func changes(req Request) bool {
	return req.Cmd == CmdAck || req.Cmd == CmdUpdate && req.Op != "status"
}

// Server serves the control API on a Unix socket.
type Server struct {
	o      Options
	log    *slog.Logger
	access access

	// lookupGroup is a seam: tests name a group of their own.
	lookupGroup func(name string) (int, error)
}

// NewServer checks o and returns a server; Run listens.
func NewServer(o Options) (*Server, error) {
	if o.Logger == nil {
		return nil, errors.New("control: no logger")
	}
	if o.Path == "" {
		o.Path = DefaultSocket
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 8
	}
	return &Server{o: o, log: o.Logger, lookupGroup: lookupGroupID,
		access: access{selfUID: os.Getuid(), gid: -1, procDir: "/proc"}}, nil
}

// Path is the socket's path.
func (s *Server) Path() string { return s.o.Path }

func lookupGroupID(name string) (int, error) {
	g, err := user.LookupGroup(name)
	if err != nil {
		return -1, err
	}
	return strconv.Atoi(g.Gid)
}

// Run listens until ctx ends, then removes the socket and waits for every
// connection to finish.
func (s *Server) Run(ctx context.Context) error {
	l, err := s.listen()
	if err != nil {
		return err
	}
	s.log.Info("control socket listening", "path", s.o.Path)
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]struct{}{}
	sem := make(chan struct{}, s.o.MaxConns)
	shutdown := func() {
		l.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
	}
	stop := context.AfterFunc(ctx, shutdown)
	defer func() {
		stop()
		shutdown() // also when Accept failed: streams must not outlive Run
		wg.Wait()
	}()
	for {
		c, err := l.AcceptUnix()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("control: accept: %w", err)
		}
		select {
		case sem <- struct{}{}:
		default:
			writeResp(c, fail(CodeBusy, "too many connections"))
			c.Close()
			continue
		}
		mu.Lock()
		conns[c] = struct{}{}
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			s.serve(ctx, c)
			c.Close()
			mu.Lock()
			delete(conns, c)
			mu.Unlock()
		}()
	}
}

// listen creates the socket with mode 0660 and the medtech group. A stale
// socket (nobody answers) is removed; a live one is an error.
func (s *Server) listen() (*net.UnixListener, error) {
	p := s.o.Path
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	if fi, err := os.Lstat(p); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("control: %s exists and is not a socket; remove it", p)
		}
		if c, err := net.DialTimeout("unix", p, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("control: %s: another agent is already serving it", p)
		}
		if err := os.Remove(p); err != nil {
			return nil, fmt.Errorf("control: remove stale socket: %w", err)
		}
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: p, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	l.SetUnlinkOnClose(true)
	gid, gerr := s.lookupGroup(TechGroup)
	if gerr != nil {
		gid = -1
		s.log.Info("control socket: no group "+TechGroup+"; only root and the agent's user may use it", "path", p)
	}
	s.access.gid = gid
	if err := os.Chown(p, -1, gid); err != nil {
		l.Close()
		return nil, fmt.Errorf("control: chown %s: %w", p, err)
	}
	if err := os.Chmod(p, 0o660); err != nil {
		l.Close()
		return nil, fmt.Errorf("control: chmod %s: %w", p, err)
	}
	return l, nil
}

func fail(code, msg string) Response { return Response{V: Version, Code: code, Error: msg} }

func writeResp(c net.Conn, r Response) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err = c.Write(append(b, '\n'))
	return err
}

// serve answers one connection: check the peer, read one request, answer.
func (s *Server) serve(ctx context.Context, c *net.UnixConn) {
	p, err := peerOf(c)
	if err == nil {
		err = s.access.allow(p)
	}
	if err != nil {
		s.log.Warn("control: connection refused", "pid", p.PID, "uid", p.UID, "err", err)
		resp := fail(CodeRefused, "refused: "+err.Error())
		if s.o.Audit != nil {
			s.o.Audit(p, Request{}, resp)
		}
		writeResp(c, resp)
		return
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReaderSize(c, 512)
	line, err := readLine(br, MaxRequest)
	if err != nil {
		writeResp(c, fail(CodeBadRequest, err.Error()))
		return
	}
	req, err := DecodeRequest(line)
	if err != nil {
		writeResp(c, fail(CodeBadRequest, err.Error()))
		return
	}
	c.SetReadDeadline(time.Time{})
	switch {
	case req.Cmd == CmdWatch:
		s.watch(ctx, c, req)
	case req.Cmd == CmdLogs && req.Follow:
		s.follow(ctx, c, req)
	default:
		resp := s.handle(ctx, req)
		if s.o.Audit != nil && changes(req) {
			s.o.Audit(p, req, resp)
		}
		writeResp(c, resp)
	}
}

// readLine reads one line of at most max bytes.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > max+1 {
			return nil, fmt.Errorf("control: line longer than %d bytes: %w", max, ErrBadRequest)
		}
		if err == nil {
			return line[:len(line)-1], nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("control: read: %w", err)
		}
	}
}
