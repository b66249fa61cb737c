package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"medagent/control"
	"medagent/update/engine"
)

// runUpdateTech routes `update status|install|commit|rollback` through the
// running agent, whose update engine then does the work (and owns the
// reboot). It works on the files directly (engine.Command) when the agent
// is not running, when the operation is resume or the artifact is stdin,
// and whenever offline flags (--journal, --slot-a, ...) are given.
func runUpdateTech(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || !slices.Contains(control.UpdateOps, args[0]) {
		return runUpdate(ctx, e, args)
	}
	op := args[0]
	var o techOpts
	fs := techFlags(e, "update "+op, `update status|install ARTIFACT|commit|rollback|reboot [--json] [--socket PATH]

With the agent running, asks its update engine: install starts the update
in the agent (which verifies the artifact, writes the inactive slot and
reboots; ARTIFACT is a file the agent can read, or an https URL) and
answers within seconds; follow it with 'update status'. While a patient is
monitored the reboot waits (state reboot-pending); 'update reboot' lets it
go ahead now. Without a running agent, or with any offline flag (see
'medagent update help'), works on the journal and boot environment
directly (reboot needs the agent).

Examples:
  medagent update install /data/medagent-2.1.mender
  medagent update status
  medagent update reboot
  medagent update commit`, &o)
	if hasOfflineFlag(args[1:]) {
		return runUpdate(ctx, e, stripSocket(args))
	}
	pos, err := parseMixed(fs, args[1:])
	if err != nil {
		return err
	}
	req := control.Request{Cmd: control.CmdUpdate, Op: op}
	switch {
	case op == "install" && len(pos) != 1:
		return usagef("update install needs exactly one ARTIFACT (file or https URL)")
	case op != "install" && len(pos) != 0:
		return usagef("update %s takes no arguments", op)
	case op == "install" && pos[0] == "-":
		return runUpdate(ctx, e, stripSocket(args)) // stdin cannot cross the socket
	case op == "install" && strings.HasPrefix(pos[0], "https://"):
		req.Arg = pos[0]
	case op == "install":
		if req.Arg, err = filepath.Abs(pos[0]); err != nil {
			return fmt.Errorf("update install: %w", err)
		}
	}
	var st engine.Status
	err = o.call(ctx, req, &st)
	if errors.Is(err, control.ErrNotRunning) && op == "reboot" {
		return techErr(err)
	}
	if errors.Is(err, control.ErrNotRunning) {
		fmt.Fprintln(e.stderr, "medagent update: the agent is not running; working on the files directly")
		return runUpdate(ctx, e, stripSocket(args))
	}
	if err != nil {
		return err
	}
	if o.json {
		return printJSON(e.stdout, st)
	}
	switch op {
	case "install":
		linef(e.stdout, "install started in the agent; follow it with: medagent update status")
	case "reboot":
		linef(e.stdout, "reboot allowed: the agent reboots as soon as the update is ready")
	}
	linef(e.stdout, "state:     %s", st.State)
	if st.Artifact != "" {
		linef(e.stdout, "artifact:  %s (slot %s -> %s)", st.Artifact, st.FromSlot, st.ToSlot)
	}
	if st.RebootPending {
		linef(e.stdout, "reboot:    pending (%s)", st.PendingReason)
	}
	if st.Reason != "" {
		linef(e.stdout, "reason:    %s", st.Reason)
	}
	if v := st.Installed["artifact_name"]; v != "" {
		linef(e.stdout, "installed: %s", v)
	}
	if !st.UpdatedAt.IsZero() {
		linef(e.stdout, "updated:   %s", st.UpdatedAt.Format(time.RFC3339))
	}
	return nil
}

// hasOfflineFlag reports a flag of the offline update command.
func hasOfflineFlag(args []string) bool {
	for _, a := range args {
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && a != "-" && !slices.Contains([]string{"json", "socket", "h", "help"}, name) {
			return true
		}
	}
	return false
}

// stripSocket removes --socket (which the offline command does not know).
func stripSocket(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		name, _, hasVal := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if strings.HasPrefix(args[i], "-") && name == "socket" {
			if !hasVal {
				i++
			}
			continue
		}
		out = append(out, args[i])
	}
	return out
}
