package control

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestRingBoundedAndPassesOn(t *testing.T) {
	var out bytes.Buffer
	r := NewRing(slog.NewTextHandler(&out, nil), 3)
	log := slog.New(r)
	for i := range 5 {
		log.Info("msg", "i", i)
	}
	got := r.Records(time.Time{})
	if len(got) != 3 {
		t.Fatalf("kept %d records, want 3", len(got))
	}
	for j, rec := range got {
		if want := fmt.Sprint(j + 2); rec.Attrs["i"] != want {
			t.Fatalf("record %d has i=%s, want %s (oldest first, oldest dropped)", j, rec.Attrs["i"], want)
		}
	}
	if n := strings.Count(out.String(), "msg=msg"); n != 5 {
		t.Fatalf("wrapped handler got %d records, want 5", n)
	}
}

func TestRingAttrsGroupsLevel(t *testing.T) {
	var out bytes.Buffer
	r := NewRing(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo}), 10)
	log := slog.New(r).With("sensor", "ecg").WithGroup("g")
	log.Debug("hidden")
	log.Warn("w", "k", "v", slog.Group("sub", "x", 1))
	got := r.Records(time.Time{})
	if len(got) != 1 {
		t.Fatalf("kept %d records, want 1 (debug is below the level)", len(got))
	}
	want := map[string]string{"sensor": "ecg", "g.k": "v", "g.sub.x": "1"}
	for k, v := range want {
		if got[0].Attrs[k] != v {
			t.Errorf("attr %s = %q, want %q (all: %v)", k, got[0].Attrs[k], v, got[0].Attrs)
		}
	}
	if got[0].Level != "WARN" || got[0].Msg != "w" {
		t.Errorf("record %+v", got[0])
	}
}

func TestRingSinceAndFollow(t *testing.T) {
	r := NewRing(slog.NewTextHandler(io.Discard, nil), 10)
	old := slog.NewRecord(time.Now().Add(-time.Hour), slog.LevelInfo, "old", 0)
	r.Handle(context.Background(), old)
	slog.New(r).Info("new")
	if got := r.Records(time.Now().Add(-time.Minute)); len(got) != 1 || got[0].Msg != "new" {
		t.Fatalf("Records(since a minute) = %+v, want only new", got)
	}
	backlog, next, cancel := r.Follow(time.Time{})
	defer cancel()
	if len(backlog) != 2 {
		t.Fatalf("backlog %d, want 2", len(backlog))
	}
	slog.New(r).Info("later")
	select {
	case rec := <-next:
		if rec.Msg != "later" {
			t.Fatalf("followed %q, want later", rec.Msg)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no record followed")
	}
	cancel()
	slog.New(r).Info("after cancel")
	select {
	case rec := <-next:
		t.Fatalf("record %q after cancel", rec.Msg)
	default:
	}
}
