package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"medagent/control"
	"medagent/internal/cmdline"
	"medagent/update/engine"
)

// The update operations: what each does, and whether it goes through the
// running agent, works on the files (offline), or both.
var updateOps = []struct {
	name, args, summary string
	agent, offline      bool
	examples            []string
}{
	{"install", "ARTIFACT", "install an artifact (file, - for stdin, or https URL) and reboot into it", true, true,
		[]string{"medagent update install /data/medagent-2.1.mender",
			"medagent update install --journal /data/update.journal --slot-a /dev/mmcblk0p2 --slot-b /dev/mmcblk0p3 --key /etc/medagent/update.pem --device-type bedside-a release.mender"}},
	{"status", "", "show the update state", true, true,
		[]string{"medagent update status", "medagent update status --json"}},
	{"commit", "", "commit the running trial boot without waiting for the health checks", true, true,
		[]string{"medagent update commit"}},
	{"rollback", "", "abandon the update in progress and boot the old slot", true, true,
		[]string{"medagent update rollback"}},
	{"reboot", "", "let a reboot held by the clinical-use lock go ahead now", true, false,
		[]string{"medagent update reboot"}},
	{"resume", "", "continue the update in progress after a reboot (offline)", false, true,
		[]string{"medagent update resume --journal /var/lib/medagent/update.journal --slot-a /dev/mmcblk0p2 --slot-b /dev/mmcblk0p3"}},
}

const updateHelp = `With the agent running, install, status, commit, rollback and reboot ask
its update engine: install starts the update in the agent (which verifies
the artifact, writes the inactive slot and reboots; ARTIFACT is a file the
agent can read, or an https URL) and answers within seconds; follow it with
'update status'. While a patient is monitored the reboot waits (state
reboot-pending); 'update reboot' lets it go ahead now.

Without a running agent, with stdin as the artifact, for resume, or with
any offline flag (--journal, --slot-a, --key ...), the command works on
the journal, boot environment and slots directly; reboot needs the agent.

status checks the journal as the engine does (its authentication and,
with a TPM, the TPM counter) and says how in its journal: line; a forged,
replayed or uncheckable journal is reported as REJECTED, never shown as
the update state, and status exits 1.`

func updateCmd() *cmdline.Command {
	c := &cmdline.Command{
		Name:    "update",
		Summary: "install, inspect, commit or roll back a system update",
		Help:    updateHelp,
	}
	for _, op := range updateOps {
		c.Subs = append(c.Subs, &cmdline.Command{
			Name: op.name, Args: op.args, Summary: op.summary, Help: updateHelp, Examples: op.examples,
			Flags: func(fs *flag.FlagSet) cmdline.Run {
				o := techFlags(fs)
				var off *engine.Offline
				if op.offline {
					off = engine.DefineOffline(fs)
				}
				return func(ctx context.Context, e env, args []string) error {
					offline := !op.agent || (op.name == "install" && len(args) == 1 && args[0] == "-")
					fs.Visit(func(f *flag.Flag) { offline = offline || (f.Name != "json" && f.Name != "socket") })
					if offline {
						off.JSON = o.json
						return off.Run(ctx, e.Stdout, e.Stderr, op.name, args)
					}
					err := updateThroughAgent(ctx, e, o, op.name, args)
					if errors.Is(err, control.ErrNotRunning) && op.offline {
						fmt.Fprintln(e.Stderr, "medagent update: the agent is not running; working on the files directly")
						off.JSON = o.json
						return off.Run(ctx, e.Stdout, e.Stderr, op.name, args)
					}
					return err
				}
			},
		})
	}
	return c
}

// updateThroughAgent asks the running agent's update engine.
func updateThroughAgent(ctx context.Context, e env, o *techOpts, op string, pos []string) error {
	req := control.Request{Cmd: control.CmdUpdate, Op: op}
	switch {
	case op == "install" && len(pos) != 1:
		return usagef("update install needs exactly one ARTIFACT (file or https URL)")
	case op != "install" && len(pos) != 0:
		return usagef("update %s takes no arguments", op)
	case op == "install" && strings.HasPrefix(pos[0], "https://"):
		req.Arg = pos[0]
	case op == "install":
		abs, err := filepath.Abs(pos[0])
		if err != nil {
			return fmt.Errorf("update install: %w", err)
		}
		req.Arg = abs
	}
	var st engine.Status
	err := control.Call(ctx, control.SocketPath(o.socket), req, &st)
	if errors.Is(err, control.ErrNotRunning) && op != "reboot" {
		return err
	}
	if err = techErr(err); err != nil {
		return err
	}
	// A journal the agent rejected at start is reported and makes status
	// fail, so that a script never takes it for the update state.
	var untrusted error
	if op == "status" && st.JournalRejected != "" {
		untrusted = fmt.Errorf("update status: %w: %s", engine.ErrJournalUntrusted, st.JournalRejected)
	}
	if o.json {
		if err := printJSON(e.Stdout, st); err != nil {
			return err
		}
		return untrusted
	}
	switch op {
	case "install":
		linef(e.Stdout, "install started in the agent; follow it with: medagent update status")
	case "reboot":
		linef(e.Stdout, "reboot allowed: the agent reboots as soon as the update is ready")
	}
	linef(e.Stdout, "state:     %s", st.State)
	if st.Artifact != "" {
		linef(e.Stdout, "artifact:  %s (slot %s -> %s)", st.Artifact, st.FromSlot, st.ToSlot)
	}
	if st.RebootPending {
		linef(e.Stdout, "reboot:    pending (%s)", st.PendingReason)
	}
	if st.RebootRequests > 0 {
		linef(e.Stdout, "reboot:    requested %d time(s), last at %s", st.RebootRequests, st.RebootRequestedAt.Format(time.RFC3339))
	}
	if st.RebootProblem != "" {
		linef(e.Stdout, "problem:   %s", st.RebootProblem)
	}
	if st.Reason != "" {
		linef(e.Stdout, "reason:    %s", st.Reason)
	}
	if v := st.Installed["artifact_name"]; v != "" {
		linef(e.Stdout, "installed: %s", v)
	}
	if line := engine.JournalLine(st); line != "" {
		linef(e.Stdout, "journal:   %s", line)
	}
	if !st.UpdatedAt.IsZero() {
		linef(e.Stdout, "updated:   %s", st.UpdatedAt.Format(time.RFC3339))
	}
	return untrusted
}
