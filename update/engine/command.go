package engine

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"medagent/internal/authfile"
	"medagent/internal/cmdline"
	"medagent/trust/datakey"
	"medagent/trust/floor"
	medupdate "medagent/update"
	"medagent/update/artifact"
	"medagent/update/bootenv"
	"medagent/update/slot"
	"medagent/update/source"
)

// Offline holds the flags of "medagent update OP" when it works on the
// journal, boot environment and slots directly instead of through the
// running agent. JSON is set by the caller (the command line shares --json
// with the agent path).
type Offline struct {
	commandFlags
	JSON bool
}

// commandFlags are the flags every offline update operation takes.
type commandFlags struct {
	journal, fwEnvConfig, grubEnv     string
	fwEnvLock, downloadDir            string
	slotA, slotB, partA, partB        string
	keys                              stringList
	deviceType, scriptsDir, rebootCmd string
	stateKey, tpm, cmdline, caFile    string
	redirectHosts                     stringList
	maxWindowMiB                      int64
	noReboot, requireChunks           bool
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// OfflineOps are the operations Offline.Run knows.
var OfflineOps = []string{"install", "resume", "status", "commit", "rollback"}

// DefineOffline defines the offline flags on fs (all but --json).
func DefineOffline(fs *flag.FlagSet) *Offline {
	f := &Offline{}
	fs.StringVar(&f.journal, "journal", "/var/lib/medagent/update.journal", "update journal `FILE`")
	fs.StringVar(&f.fwEnvConfig, "fw-env-config", "/etc/fw_env.config", "U-Boot environment location `FILE` (fw_env.config)")
	fs.StringVar(&f.fwEnvLock, "fw-env-lock", bootenv.DefaultLockFile, "lock `FILE` shared with fw_printenv/fw_setenv")
	fs.StringVar(&f.grubEnv, "grubenv", "", "use this GRUB environment block `FILE` instead of U-Boot")
	fs.StringVar(&f.slotA, "slot-a", "", "`DEVICE` of slot A (e.g. /dev/mmcblk0p2)")
	fs.StringVar(&f.slotB, "slot-b", "", "`DEVICE` of slot B (e.g. /dev/mmcblk0p3)")
	fs.StringVar(&f.partA, "part-a", "", "mender_boot_part `VALUE` of slot A (empty: trailing digits of --slot-a)")
	fs.StringVar(&f.partB, "part-b", "", "mender_boot_part `VALUE` of slot B (empty: trailing digits of --slot-b)")
	fs.Var(&f.keys, "key", "artifact verification public key PEM `FILE` (repeatable; required for install)")
	fs.StringVar(&f.deviceType, "device-type", "", "device `TYPE` the artifact must be compatible with (required for install)")
	fs.StringVar(&f.scriptsDir, "scripts-dir", "/etc/mender/scripts", "state scripts `DIR`")
	fs.StringVar(&f.rebootCmd, "reboot-cmd", strings.Join(medupdate.DefaultRebootCommand, " "), "`COMMAND` that reboots the device")
	fs.StringVar(&f.cmdline, "cmdline", "/proc/cmdline", "kernel command line `FILE` that names the running slot (medagent.slot=a|b, or root=)")
	fs.StringVar(&f.downloadDir, "download-dir", "", "install URL: download into `DIR` first, resumable across restarts (needs room for the artifact)")
	fs.BoolVar(&f.noReboot, "no-reboot", false, "do not reboot; print that a reboot is needed")
	fs.StringVar(&f.stateKey, "state-key", "", "state key `FILE` that authenticates the journal (empty: state.key beside --journal; made when missing)")
	fs.StringVar(&f.tpm, "tpm", "", "TPM `DEVICE` that seals the state key and holds the journal counter and the version floor (empty: /dev/tpmrm0 when present; off: none)")
	fs.Int64Var(&f.maxWindowMiB, "max-window-mib", artifact.DefaultMaxWindow>>20, "largest decompression window an install may allocate, in `MiB`")
	fs.BoolVar(&f.requireChunks, "require-chunks", false, "refuse artifacts without a signed chunk list (verify before write)")
	fs.StringVar(&f.caFile, "ca-file", "", "install URL: PEM trust anchors `FILE` of the update server (required for https)")
	fs.Var(&f.redirectHosts, "redirect-host", "install URL: a `HOST` a redirect may lead to besides the URL's own (repeatable)")
	return f
}

// StateKeyFile is the default state key: state.key beside the journal.
func StateKeyFile(journal string) string { return medupdate.StateKeyFile(journal) }

// JournalKey derives the journal's key from the acquire role's state key.
func JournalKey(stateKey []byte) []byte { return authfile.DeriveKey(stateKey, "update journal") }

// OpenFloor opens the version floor for a journal: TPM NV when tpm names
// (or finds) a TPM, else floor.state beside the journal, authenticated
// with a key derived from the state key.
func OpenFloor(tpm, journal string, stateKey []byte) (FloorStore, error) {
	return floor.Open(floor.Options{TPM: tpm, File: filepath.Join(filepath.Dir(journal), "floor.state"),
		Key: authfile.DeriveKey(stateKey, "version floor")})
}

func (f *commandFlags) journalKey() ([]byte, error) {
	k, err := f.loadStateKey()
	if err != nil {
		return nil, err
	}
	return JournalKey(k), nil
}

func (f *commandFlags) loadStateKey() ([]byte, error) {
	p := f.stateKey
	if p == "" {
		p = StateKeyFile(f.journal)
	}
	if _, err := os.Stat(f.journal); err == nil {
		// A journal exists: its key must too (never make a new one that
		// would only reject it).
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("update: the journal %s exists but its state key cannot be read (--state-key): %w", f.journal, err)
		}
	}
	k, err := datakey.Load(datakey.Options{TPM: f.tpm, File: p, Private: true})
	if err != nil {
		return nil, fmt.Errorf("update: state key: %w", err)
	}
	return k, nil
}

// Run runs op (one of OfflineOps) on the files named by the flags; args
// are its positional arguments (install: FILE, - or an https URL).
func (f *Offline) Run(ctx context.Context, stdout, stderr io.Writer, op string, args []string) error {
	switch {
	case !slices.Contains(OfflineOps, op):
		return cmdline.Usagef("update %s cannot work offline (known: %s)", op, strings.Join(OfflineOps, ", "))
	case op == "install" && len(args) != 1:
		return cmdline.Usagef("update install: want exactly one FILE, - or URL")
	case op != "install" && len(args) != 0:
		return cmdline.Usagef("update %s: unexpected arguments %v", op, args)
	}
	if op == "status" && f.slotA == "" {
		return f.statusFromJournal(stdout) // never makes a key or a counter
	}
	e, err := f.engine(stderr)
	if err != nil {
		return err
	}
	switch op {
	case "status":
		st := e.Status()
		if err := printStatus(stdout, st, f.JSON); err != nil {
			return err
		}
		return statusResult(st)
	case "commit":
		return e.Commit(ctx)
	case "rollback":
		return e.Rollback(ctx)
	case "resume":
		if err := e.Resume(ctx); err != nil {
			return err
		}
		if f.noReboot {
			return nil
		}
		// A reboot requested before (this process or another) that has
		// not happened: wait for it, ask again, or give up safely.
		return e.AwaitReboot(ctx)
	}
	if strings.HasPrefix(args[0], "https://") {
		err = e.InstallURL(ctx, args[0])
	} else {
		src, closeSrc, oerr := openSource(args[0])
		if oerr != nil {
			return oerr
		}
		defer closeSrc()
		err = e.Install(ctx, src)
	}
	if err != nil {
		return err
	}
	if st := e.Status(); st.RebootProblem != "" {
		return fmt.Errorf("update install: installed and armed, but %s: the agent (or medagent update resume) asks again after the reboot timeout and, when the reboot never happens, points the boot environment back to slot %s and fails the update", st.RebootProblem, st.FromSlot)
	}
	if f.noReboot {
		fmt.Fprintln(stdout, "installed; reboot to boot the new slot, then run: medagent update resume")
	}
	return nil
}

func (f *commandFlags) engine(stderr io.Writer) (*Engine, error) {
	var env bootenv.ReadWriter
	if f.grubEnv != "" {
		env = &bootenv.Grub{Path: f.grubEnv}
	} else {
		cfg, err := bootenv.ReadConfigFile(f.fwEnvConfig)
		if err != nil {
			return nil, err
		}
		cfg.LockFile = f.fwEnvLock
		u, err := bootenv.NewUBoot(cfg)
		if err != nil {
			return nil, err
		}
		env = u
	}
	sk, err := f.loadStateKey()
	if err != nil {
		return nil, err
	}
	fl, err := OpenFloor(f.tpm, f.journal, sk)
	if err != nil {
		return nil, err
	}
	var client *http.Client
	if f.caFile != "" {
		if client, err = source.HTTPClient(source.HTTPOptions{CAFile: f.caFile, RedirectHosts: f.redirectHosts}); err != nil {
			return nil, err
		}
	}
	o := Options{
		HTTPClient:  client,
		Journal:     f.journal,
		JournalKey:  JournalKey(sk),
		Counter:     openCounter(f.tpm),
		Floor:       fl,
		Env:         env,
		Slots:       slot.Config{A: slot.Slot{Device: f.slotA, Part: f.partA}, B: slot.Slot{Device: f.slotB, Part: f.partB}, CmdlinePath: f.cmdline},
		ScriptsDir:  f.scriptsDir,
		Logger:      slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Open:        f.opener(),
		DownloadDir: f.downloadDir,
	}
	if f.noReboot {
		o.Reboot = func(context.Context) error { return nil }
	} else {
		argv := strings.Fields(f.rebootCmd)
		o.Reboot = func(ctx context.Context) error {
			if len(argv) == 0 {
				return errors.New("empty --reboot-cmd")
			}
			if out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput(); err != nil {
				return fmt.Errorf("%s: %w: %s", f.rebootCmd, err, strings.TrimSpace(string(out)))
			}
			return nil
		}
	}
	if isTerminal(stderr) {
		o.Progress = progressBar(stderr)
	}
	return New(o)
}

// opener returns the artifact opener for the flags; it refuses to open
// anything without a key and a device type (fail closed).
func (f *commandFlags) opener() OpenFunc {
	return func(r io.Reader, req OpenRequest) (Artifact, error) {
		if len(f.keys) == 0 {
			return nil, errors.New("no --key given: refusing to install an unverified artifact")
		}
		if f.deviceType == "" {
			return nil, errors.New("no --device-type given")
		}
		var pems [][]byte
		for _, k := range f.keys {
			b, err := os.ReadFile(k)
			if err != nil {
				return nil, fmt.Errorf("key: %w", err)
			}
			pems = append(pems, b)
		}
		v := Verification{DeviceType: f.deviceType, MaxWindow: f.maxWindowMiB << 20, RequireChunks: f.requireChunks}
		return openArtifact(r, pems, v, req)
	}
}

// openSource opens FILE or - (stdin). A file must be a regular file (no
// FIFO, device or symbolic link: update/source), opened without blocking.
func openSource(arg string) (io.Reader, func(), error) {
	switch {
	case arg == "-":
		return os.Stdin, func() {}, nil
	case strings.Contains(arg, "://"):
		return nil, nil, fmt.Errorf("update install: %q: only https URLs are accepted", arg)
	}
	abs, err := filepath.Abs(arg)
	if err != nil {
		return nil, nil, fmt.Errorf("update install: %w", err)
	}
	f, err := source.OpenFile(filepath.Dir(abs), abs)
	if err != nil {
		return nil, nil, fmt.Errorf("update install: %w", err)
	}
	return f, func() { f.Close() }, nil
}

func statusOf(j *Journal) Status {
	s := Status{State: j.State, JournalState: j.State, Artifact: j.Artifact, FromSlot: j.FromSlot, ToSlot: j.ToSlot,
		Size: j.Size, Reason: j.Reason, Entries: j.Entries, Installed: j.Installed, UpdatedAt: j.UpdatedAt}
	if j.State == StateReboot || j.State == StateRollbackBoot {
		s.RebootRequests, s.RebootRequestedAt, s.RebootProblem = j.RebootRequests, j.RebootRequestedAt, j.RebootProblem
	}
	return s
}

// JournalLine says in words how the journal behind s was checked, or ""
// when s does not say.
func JournalLine(s Status) string {
	switch {
	case s.JournalRejected != "":
		return "REJECTED, not the update state: " + s.JournalRejected
	case s.JournalCheck == CheckCounter:
		return "verified (state key and TPM counter)"
	case s.JournalCheck == CheckKey:
		return "authenticated by the state key only (no TPM counter: an older journal put back is not detected)"
	}
	return ""
}

func printStatus(w io.Writer, s Status, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	fmt.Fprintf(w, "state:     %s\n", s.State)
	if s.Artifact != "" {
		fmt.Fprintf(w, "artifact:  %s (slot %s -> %s)\n", s.Artifact, s.FromSlot, s.ToSlot)
	}
	if s.RebootPending {
		fmt.Fprintf(w, "reboot:    pending (%s)\n", s.PendingReason)
	}
	if s.RebootRequests > 0 {
		fmt.Fprintf(w, "reboot:    requested %d time(s), last at %s\n", s.RebootRequests, s.RebootRequestedAt.Format(time.RFC3339))
	}
	if s.RebootProblem != "" {
		fmt.Fprintf(w, "problem:   %s\n", s.RebootProblem)
	}
	if s.Reason != "" {
		fmt.Fprintf(w, "reason:    %s\n", s.Reason)
	}
	if line := JournalLine(s); line != "" {
		fmt.Fprintf(w, "journal:   %s\n", line)
	}
	if v := s.Installed["artifact_name"]; v != "" {
		fmt.Fprintf(w, "installed: %s\n", v)
	}
	if !s.UpdatedAt.IsZero() {
		fmt.Fprintf(w, "updated:   %s\n", s.UpdatedAt.Format(time.RFC3339))
	}
	return nil
}
