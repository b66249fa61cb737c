package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"medagent/update/slot"
)

// The child half of TestSIGKILLDuringPayload: it installs from a source
// that, after half the payload, announces itself and blocks until killed.
func TestMain(m *testing.M) {
	if spec := os.Getenv("MEDAGENT_ENGINE_CHILD"); spec != "" {
		os.Exit(childInstall(spec))
	}
	if spec := os.Getenv("MEDAGENT_ENGINE_RSS"); spec != "" {
		os.Exit(childRSS(spec))
	}
	os.Exit(m.Run())
}

type childSpec struct {
	Dir     string
	Slots   slot.Config
	EnvFile string
	Lock    string
	Payload string
	Marker  string
}

func childInstall(spec string) int {
	var cs childSpec
	if err := json.Unmarshal([]byte(spec), &cs); err != nil {
		return 3
	}
	w := &world{t: &testing.T{}, dir: cs.Dir, slots: cs.Slots}
	env, err := openWorldEnv(cs.EnvFile, cs.Lock)
	if err != nil {
		return 4
	}
	w.env = env
	img, err := os.ReadFile(cs.Payload)
	if err != nil {
		return 5
	}
	w.newImg = img
	o := w.options()
	o.Env = env
	e, err := New(o)
	if err != nil {
		return 6
	}
	src := &blockAfter{r: bytes.NewReader(img), after: int64(len(img) / 2), marker: cs.Marker}
	e.Install(context.Background(), &chunked{r: src, n: 16 << 10})
	return 7 // never reached: killed while blocked
}

// blockAfter delivers `after` bytes, creates the marker file and blocks.
type blockAfter struct {
	r      io.Reader
	n      int64
	after  int64
	marker string
}

func (b *blockAfter) Read(p []byte) (int, error) {
	if b.n >= b.after {
		os.WriteFile(b.marker, nil, 0o644)
		// Wait for SIGKILL. Not select{}: with no other goroutine the
		// runtime would report a deadlock and exit before the kill.
		for {
			time.Sleep(time.Hour)
		}
	}
	if rem := b.after - b.n; int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	return n, err
}

// TestSIGKILLDuringPayload kills a real agent process (this test binary
// re-executed) with SIGKILL in the middle of the payload write, then boots
// the simulated board and resumes: the old slot boots, the update is
// failed with a reason, and a second install succeeds.
func TestSIGKILLDuringPayload(t *testing.T) {
	w := newWorld(t)
	payload := filepath.Join(w.dir, "payload")
	must(t, os.WriteFile(payload, w.newImg, 0o644))
	cfg := w.env.Config()
	spec, _ := json.Marshal(childSpec{Dir: w.dir, Slots: w.slots, EnvFile: cfg.Copies[0].Path, Lock: cfg.LockFile,
		Payload: payload, Marker: filepath.Join(w.dir, "half")})
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "MEDAGENT_ENGINE_CHILD="+string(spec))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	must(t, cmd.Start())
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(w.dir, "half")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("child never reached the middle of the payload: %s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	must(t, cmd.Process.Kill()) // SIGKILL
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != -1 {
		t.Fatalf("child did not die of the signal: %v %s", err, stderr.String())
	}
	if j := w.engine(nil).Journal(); j.State != StateInstall {
		t.Fatalf("journal after kill: %s", j.State)
	}
	if s := w.boot(); s.Name != "A" {
		t.Fatalf("booted %s", s.Name)
	}
	e := w.engine(nil)
	if err := e.Resume(context.Background()); !errors.Is(err, ErrFailed) {
		t.Fatalf("resume: %v", err)
	}
	must(t, e.Install(context.Background(), w.src()))
	if s := w.boot(); s.Name != "B" {
		t.Fatalf("second install booted %s", s.Name)
	}
	must(t, w.engine(nil).Resume(context.Background()))
}
