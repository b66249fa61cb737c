package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
)

// ErrNotRunning means nothing answers on the socket: it is absent or
// refuses connections (no agent runs).
var ErrNotRunning = errors.New("the agent is not running")

// RemoteError is a failure the agent answered with.
type RemoteError struct {
	Code string // a Code constant
	Msg  string
}

func (e *RemoteError) Error() string { return e.Msg }

// Refused reports whether the agent refused this user.
func (e *RemoteError) Refused() bool { return e.Code == CodeRefused }

// SocketPath returns flag if set, else $MEDAGENT_SOCKET, else DefaultSocket.
func SocketPath(flag string) string {
	if flag != "" {
		return flag
	}
	if p := os.Getenv(SocketEnv); p != "" {
		return p
	}
	return DefaultSocket
}

// dial connects to the socket; an absent socket, or one nobody listens on,
// is ErrNotRunning. A permission error is returned as is (with the path).
func dial(ctx context.Context, path string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err == nil {
		return c, nil
	}
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOTSOCK) {
		return nil, fmt.Errorf("control: %s: %w", path, ErrNotRunning)
	}
	if errors.Is(err, os.ErrPermission) {
		return nil, fmt.Errorf("control: %s: permission denied: run as root or as a member of group %s", path, TechGroup)
	}
	return nil, fmt.Errorf("control: %w", err)
}

// Call sends req to the agent at path and decodes its data into out (which
// may be nil).
func Call(ctx context.Context, path string, req Request, out any) error {
	return Stream(ctx, path, req, func(data json.RawMessage) error {
		if out != nil {
			if err := json.Unmarshal(data, out); err != nil {
				return fmt.Errorf("control: decode %s answer: %w", req.Cmd, err)
			}
		}
		return io.EOF
	})
}

// Stream sends req and calls fn with the data of every response line until
// fn returns an error (io.EOF stops cleanly), the agent closes, or ctx ends.
func Stream(ctx context.Context, path string, req Request, fn func(json.RawMessage) error) error {
	req.V = Version
	c, err := dial(ctx, path)
	if err != nil {
		return err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	b, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("control: %w", err)
	}
	// A write error is reported only if no answer can be read: an agent
	// that refuses this user answers and closes before reading.
	_, werr := c.Write(append(b, '\n'))
	br := bufio.NewReaderSize(c, 4096)
	for n := 0; ; n++ {
		line, err := readLine(br, MaxResponse)
		if err != nil && werr != nil && n == 0 {
			return fmt.Errorf("control: send: %w", werr)
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if n > 0 && errors.Is(err, io.EOF) {
				return nil
			}
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("control: %s: the agent closed the connection without answering (stopped or rebooting?): %w", req.Cmd, err)
			}
			return fmt.Errorf("control: %s: %w", req.Cmd, err)
		}
		var r Response
		if err := json.Unmarshal(line, &r); err != nil {
			return fmt.Errorf("control: malformed answer: %w", err)
		}
		if r.V != Version {
			return fmt.Errorf("control: agent speaks protocol %d, this client %d", r.V, Version)
		}
		if !r.OK {
			return &RemoteError{Code: r.Code, Msg: r.Error}
		}
		if err := fn(r.Data); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}
