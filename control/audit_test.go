package control

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// TestAuditHook: a technician action that changes something is reported
// with the caller's uid and its outcome; reads are not.
func TestAuditHook(t *testing.T) {
	dir := t.TempDir()
	var mu sync.Mutex
	var got []string
	s, err := NewServer(Options{Path: filepath.Join(dir, "control.sock"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Provider: Provider{
			Status: func(context.Context) Status { return Status{} },
			Ack:    func(context.Context, uint64) error { return errors.New("no such alarm") },
			Update: func(context.Context, string, string) (any, error) { return "ok", nil },
		},
		Audit: func(p Peer, req Request, resp Response) {
			mu.Lock()
			defer mu.Unlock()
			if p.UID != os.Getuid() {
				t.Errorf("uid %d, want %d", p.UID, os.Getuid())
			}
			got = append(got, req.Cmd+"/"+req.Op+"/"+map[bool]string{true: "ok", false: "refused"}[resp.OK])
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitSocket(t, s.Path())
	Call(ctx, s.Path(), Request{Cmd: CmdStatus}, nil)
	Call(ctx, s.Path(), Request{Cmd: CmdAck, ID: 7}, nil)
	Call(ctx, s.Path(), Request{Cmd: CmdUpdate, Op: "status"}, nil)
	Call(ctx, s.Path(), Request{Cmd: CmdUpdate, Op: "commit"}, nil)
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"ack//refused", "update/commit/ok"}; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("audited %q, want %q", got, want)
	}
}
