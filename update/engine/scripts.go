package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Exit codes of state scripts (Mender's convention).
const (
	ScriptOK         = 0
	ScriptRetryLater = 21
)

var scriptName = regexp.MustCompile(`^([A-Za-z]+)_(Enter|Leave|Error)_([0-9]{2})(_.*)?$`)

// scripts runs the state scripts of s for action; the first failure stops.
func (e *Engine) scripts(ctx context.Context, s State, action string) error {
	return e.runScripts(ctx, s.scriptState(), action)
}

// errorScripts runs the _Error scripts of s; their failures are logged only.
func (e *Engine) errorScripts(ctx context.Context, s State) {
	e.runIgnoring(ctx, s.scriptState(), "Error")
}

func (e *Engine) runIgnoring(ctx context.Context, name, action string) {
	if err := e.runScripts(ctx, name, action); err != nil {
		e.log.Warn("update state script failed (ignored)", "script", name+"_"+action, "err", err)
	}
}

func (e *Engine) runScripts(ctx context.Context, name, action string) error {
	paths, err := listScripts(e.o.ScriptsDir, name, action)
	if err != nil {
		return err
	}
	for _, p := range paths {
		if err := e.runScript(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// listScripts returns dir's scripts for name and action in NN order.
func listScripts(dir, name, action string) ([]string, error) {
	if dir == "" {
		return nil, nil
	}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("engine: state scripts: %w", err)
	}
	var out []string
	for _, d := range ents {
		m := scriptName.FindStringSubmatch(d.Name())
		if m == nil || m[1] != name || m[2] != action {
			continue
		}
		out = append(out, d.Name())
	}
	// Names share the prefix, so a plain sort orders by NN then suffix.
	sort.Strings(out)
	for i, n := range out {
		out[i] = filepath.Join(dir, n)
	}
	return out, nil
}

// runScript runs one script with the script timeout, again after the retry
// interval while it exits 21, until the retry timeout.
func (e *Engine) runScript(ctx context.Context, path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("engine: state script: %w", err)
	}
	if !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 {
		return fmt.Errorf("engine: state script %s is not an executable file", path)
	}
	start := e.o.Now()
	for attempt := 1; ; attempt++ {
		code, out, err := runCommand(ctx, e.o.ScriptTimeout, []string{path})
		switch {
		case err != nil:
			return fmt.Errorf("engine: state script %s: %w%s", filepath.Base(path), err, out)
		case code == ScriptOK:
			return nil
		case code == ScriptRetryLater:
			if e.o.Now().Sub(start)+e.o.ScriptRetryInterval > e.o.ScriptRetryTimeout {
				return fmt.Errorf("engine: state script %s still asks to retry later after %d attempts (retry timeout %s)", filepath.Base(path), attempt, e.o.ScriptRetryTimeout)
			}
			e.log.Info("update state script asks to retry later", "script", filepath.Base(path), "attempt", attempt)
			t := time.NewTimer(e.o.ScriptRetryInterval)
			select {
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("engine: state script %s: %w", filepath.Base(path), ctx.Err())
			case <-t.C:
			}
		default:
			return fmt.Errorf("engine: state script %s exited %d%s", filepath.Base(path), code, out)
		}
	}
}

// runCommand runs argv with a timeout, killing its whole process group when
// it expires. It returns the exit code, and the tail of its output formatted
// for an error message.
func runCommand(ctx context.Context, timeout time.Duration, argv []string) (int, string, error) {
	if len(argv) == 0 {
		return 0, "", errors.New("empty command")
	}
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(tctx, argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	var tail tailBuffer
	cmd.Stdout, cmd.Stderr = &tail, &tail
	err := cmd.Run()
	out := ""
	if s := strings.TrimSpace(string(tail.b)); s != "" {
		out = ": " + s
	}
	if tctx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
		return -1, out, fmt.Errorf("timed out after %s", timeout)
	}
	if ctx.Err() != nil {
		return -1, out, ctx.Err()
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ee.ExitCode() < 0 {
			return -1, out, fmt.Errorf("killed: %w", err)
		}
		return ee.ExitCode(), out, nil
	}
	if err != nil {
		return -1, out, err
	}
	return 0, out, nil
}

// tailBuffer keeps the last 512 bytes written to it.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	const max = 512
	t.b = append(t.b, p...)
	if len(t.b) > max {
		t.b = append(t.b[:0], t.b[len(t.b)-max:]...)
	}
	return len(p), nil
}
