package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// clientEnv makes the test binary act as a control client (see TestMain):
// the peer-credential test runs it under other uids.
const clientEnv = "CONTROL_TEST_CLIENT_SOCKET"

func TestMain(m *testing.M) {
	if p := os.Getenv(clientEnv); p != "" {
		var s Status
		err := Call(context.Background(), p, Request{Cmd: CmdStatus}, &s)
		var re *RemoteError
		switch {
		case err == nil:
			fmt.Printf("allowed device=%s\n", s.DeviceID)
		case errors.As(err, &re):
			fmt.Printf("answered %s: %s\n", re.Code, re.Msg)
		default:
			fmt.Printf("error: %v\n", err)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func fakeProvider() Provider {
	return Provider{
		Status: func(context.Context) Status { return Status{DeviceID: "MA-0042", Role: "all"} },
		Sensors: func(context.Context) []Sensor {
			v := 72.0
			return []Sensor{{Name: "ecg", State: "ok", Values: []Value{{Name: "MDC_ECG_HEART_RATE", Value: &v}}}}
		},
		Alarms: func(context.Context) []Alarm { return []Alarm{} },
	}
}

// startServer runs a server until the test ends and waits for it.
func startServer(t testing.TB, dir string, p Provider, ring *Ring, gid int) *Server {
	t.Helper()
	s, err := NewServer(Options{Path: filepath.Join(dir, "control.sock"), Provider: p, Ring: ring,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	s.lookupGroup = func(string) (int, error) {
		if gid < 0 {
			return -1, errors.New("no such group")
		}
		return gid, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server Run: %v", err)
		}
		if _, err := os.Stat(s.Path()); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("socket left behind after Run: %v", err)
		}
	})
	waitSocket(t, s.Path())
	return s
}

func waitSocket(t testing.TB, p string) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if fi, err := os.Stat(p); err == nil && fi.Mode().Perm() == 0o660 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("socket %s never appeared with mode 0660", p)
}

func TestServerCommands(t *testing.T) {
	ring := NewRing(slog.NewTextHandler(io.Discard, nil), 16)
	slog.New(ring).Info("hello", "sensor", "ecg")
	p := fakeProvider()
	s := startServer(t, t.TempDir(), p, ring, -1)
	ctx := context.Background()

	var st Status
	if err := Call(ctx, s.Path(), Request{Cmd: CmdStatus}, &st); err != nil || st.DeviceID != "MA-0042" {
		t.Fatalf("status = %+v, %v", st, err)
	}
	var one Sensor
	if err := Call(ctx, s.Path(), Request{Cmd: CmdSensor, Name: "ecg"}, &one); err != nil || *one.Values[0].Value != 72 {
		t.Fatalf("sensor ecg = %+v, %v", one, err)
	}
	var re *RemoteError
	if err := Call(ctx, s.Path(), Request{Cmd: CmdSensor, Name: "eeg"}, nil); !errors.As(err, &re) || re.Code != CodeFailed {
		t.Fatalf("unknown sensor: %v, want a failed answer", err)
	}
	if err := Call(ctx, s.Path(), Request{Cmd: CmdAck, ID: 1}, nil); !errors.As(err, &re) || re.Code != CodeUnavailable {
		t.Fatalf("ack without provider: %v, want unavailable", err)
	}
	if err := Call(ctx, s.Path(), Request{Cmd: "reboot"}, nil); !errors.As(err, &re) || re.Code != CodeBadRequest {
		t.Fatalf("unknown command: %v, want bad_request", err)
	}
	var logs []LogRecord
	if err := Call(ctx, s.Path(), Request{Cmd: CmdLogs}, &logs); err != nil || len(logs) != 1 || logs[0].Attrs["sensor"] != "ecg" {
		t.Fatalf("logs = %+v, %v", logs, err)
	}

	// watch streams until the client stops.
	n := 0
	err := Stream(ctx, s.Path(), Request{Cmd: CmdWatch, IntervalMS: 100}, func(d json.RawMessage) error {
		var ss []Sensor
		if err := json.Unmarshal(d, &ss); err != nil || len(ss) != 1 {
			return fmt.Errorf("watch data %s: %v", d, err)
		}
		if n++; n == 3 {
			return io.EOF
		}
		return nil
	})
	if err != nil || n != 3 {
		t.Fatalf("watch: %d updates, %v", n, err)
	}

	// logs -f: the backlog, then what is logged later.
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var msgs []string
	err = Stream(fctx, s.Path(), Request{Cmd: CmdLogs, Follow: true}, func(d json.RawMessage) error {
		var r LogRecord
		if err := json.Unmarshal(d, &r); err != nil {
			return err
		}
		msgs = append(msgs, r.Msg)
		if len(msgs) == 1 {
			slog.New(ring).Info("later")
		}
		if len(msgs) == 2 {
			return io.EOF
		}
		return nil
	})
	if err != nil || strings.Join(msgs, ",") != "hello,later" {
		t.Fatalf("logs -f: %v, %v", msgs, err)
	}
}

func TestServerRawRequests(t *testing.T) {
	s := startServer(t, t.TempDir(), fakeProvider(), nil, -1)
	for _, line := range []string{"garbage\n", `{"v":9,"cmd":"status"}` + "\n", strings.Repeat("x", MaxRequest+10) + "\n"} {
		c, err := net.Dial("unix", s.Path())
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte(line))
		b, _ := io.ReadAll(io.LimitReader(c, 4096))
		c.Close()
		var r Response
		if err := json.Unmarshal(bytes.TrimSpace(b), &r); err != nil || r.OK || r.Code != CodeBadRequest || r.V != Version {
			t.Errorf("request %.20q: answer %s (%v), want a bad_request", line, b, err)
		}
	}
}

func TestNotRunning(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "control.sock")
	if err := Call(context.Background(), p, Request{Cmd: CmdStatus}, nil); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("absent socket: %v, want ErrNotRunning", err)
	}
	// A stale socket (its agent died) refuses connections.
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: p, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close()
	if err := Call(context.Background(), p, Request{Cmd: CmdStatus}, nil); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("stale socket: %v, want ErrNotRunning", err)
	}
	// A new agent replaces the stale socket.
	s := startServer(t, dir, fakeProvider(), nil, -1)
	if err := Call(context.Background(), s.Path(), Request{Cmd: CmdStatus}, nil); err != nil {
		t.Fatalf("after replacing the stale socket: %v", err)
	}
	// A second agent on a live socket fails and leaves the first alone.
	s2, _ := NewServer(Options{Path: s.Path(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := s2.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "already serving") {
		t.Fatalf("second server: %v, want already serving", err)
	}
	if err := Call(context.Background(), s.Path(), Request{Cmd: CmdStatus}, nil); err != nil {
		t.Fatalf("first server after the second failed: %v", err)
	}
}

func TestSocketGroup(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatal("this test chowns the socket to another group: run it as root (the project's test machines do)")
	}
	s := startServer(t, t.TempDir(), fakeProvider(), nil, 4242)
	fi, err := os.Stat(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if gid := fi.Sys().(*syscall.Stat_t).Gid; gid != 4242 || fi.Mode().Perm() != 0o660 {
		t.Fatalf("socket gid %d mode %v, want 4242 and 0660", gid, fi.Mode().Perm())
	}
}

// TestPeerCredentials runs this test binary as a client under other uids
// and checks who the agent serves.
func TestPeerCredentials(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatal("this test runs clients as other users: run it as root (the project's test machines do)")
	}
	const medtech, nobody = 4242, 65534
	// A directory everyone may traverse, holding a copy of this binary.
	dir, err := os.MkdirTemp("", "control-peer")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "client.test")
	b, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, b, 0o755); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, dir, fakeProvider(), nil, medtech)
	run := func(cred *syscall.Credential) string {
		cmd := exec.Command(exe)
		cmd.Env = []string{clientEnv + "=" + s.Path()}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("client as %+v: %v: %s", cred, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	stranger := &syscall.Credential{Uid: nobody, Gid: nobody, Groups: []uint32{}}
	cases := []struct {
		name string
		cred *syscall.Credential
		want string
	}{
		{"root", nil, "allowed device=MA-0042"},
		{"medtech primary group", &syscall.Credential{Uid: nobody, Gid: medtech, Groups: []uint32{}}, "allowed device=MA-0042"},
		{"medtech supplementary group", &syscall.Credential{Uid: nobody, Gid: nobody, Groups: []uint32{100, medtech}}, "allowed device=MA-0042"},
		// Mode 0660 root:medtech keeps a stranger out before the agent sees him.
		{"stranger, file mode", stranger, "permission denied"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := run(c.cred); !strings.Contains(got, c.want) {
				t.Fatalf("client says %q, want %q", got, c.want)
			}
		})
	}
	// With the file mode opened up (a mistake by hand), SO_PEERCRED still
	// refuses the stranger.
	if err := os.Chmod(s.Path(), 0o666); err != nil {
		t.Fatal(err)
	}
	if got := run(stranger); !strings.HasPrefix(got, "answered refused:") || !strings.Contains(got, "uid 65534") {
		t.Fatalf("stranger on an open socket: %q, want answered refused", got)
	}
	if got := run(&syscall.Credential{Uid: nobody, Gid: nobody, Groups: []uint32{medtech}}); !strings.HasPrefix(got, "allowed") {
		t.Fatalf("medtech member on an open socket: %q", got)
	}
}
