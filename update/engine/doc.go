// Package engine is the A/B update state machine of medagent.
//
// It follows the Mender client 3.x dual-rootfs semantics. Install streams a
// verified artifact's rootfs payload into the inactive slot, checks it, and
// arms a trial boot in the boot environment (upgrade_available=1,
// bootcount=0, mender_boot_part=<new>); the boot loader (meta-mender's U-Boot
// script: bootcount/bootlimit/altbootcmd) counts boots and falls back by
// itself when the new slot does not come up. After the reboot, Resume
// (called at every agent start) checks that the running slot is the armed
// one, runs the health checks and commits (upgrade_available=0, the new
// provides stored) or rolls back (mender_boot_part back to the old slot,
// upgrade_available=0, reboot).
//
// The running slot is known only from positive evidence (the boot loader's
// medagent.slot= on the kernel command line, or a root device that names a
// slot; see update/slot), never from mender_boot_part: without it the
// engine neither installs nor commits, and a commit before the reboot into
// the new slot is refused (ErrNotBooted). Every boot-state write (arm,
// commit, rollback) goes to the environment twice, so that both copies of
// a redundant environment hold it and damage to either later still boots
// that state.
//
// Every state is entered through a versioned JSON journal written durably
// (temp file, fsync, rename, fsync of the directory) before its side effects,
// and every state's actions are idempotent, so after a power cut at any
// instant Resume repeats the interrupted state. The journal is authenticated
// (HMAC-SHA256 with Options.JournalKey, which the agent derives from its
// TPM-sealed state key; see internal/authfile), mode 0600 in a directory
// only the update owner may write; a journal that fails that check is
// treated as nothing in progress, kept aside as *.rejected and reported by
// Status, and never arms anything. Where there is a TPM the journal is
// also bound to a TPM NV counter (Options.Counter, index 0x01804D47, see
// counter.go): each save writes counter+1 into the journal, then
// increments the counter, so an older journal put back (validly
// authenticated when it was written: one copied while an update waited for
// its reboot would roll a committed update back) fails that check too.
// Without a TPM that replay is not covered, and cannot honestly be: the
// state key is then a file that whoever could put an older journal back
// can read (README, "Without a TPM"; a counter in the U-Boot environment
// was examined and not built: medagent's boot script saves only its own
// variables at each trial boot, so it would vanish exactly then).
// "update status" without the
// agent checks the journal the same way (status.go) without writing
// anything, and a journal that fails is reported, not shown.
//
// Nothing unverified is armed. The payload's SHA-256 from the signed
// manifest is journaled before the first byte is written; with a signed
// chunk list (update/artifact) no byte reaches the slot before its chunk is
// verified. Before the trial boot is armed the slot is hashed against the
// signed digest (unless this same process verified it a moment before),
// whatever the journal says. Anti-rollback: an artifact whose version
// (trust/floor) is below the device's version floor (TPM NV, else an
// authenticated file) is refused before the slot is touched, and again
// before arming; the floor is raised only after a commit and never
// lowered; InstallWith(Downgrade) is how a signed command names the one
// artifact that may go below it. When an install fails after writing began,
// the slot's first MiB is wiped (slot.Invalidate) so that nothing bootable
// is left behind, and the reason says so. The slot writer wipes the same
// MiB before it writes and writes the payload's first 128 KiB (every
// superblock) last, once everything else is on the media and verified: a
// write cut short by a power loss leaves no superblock even when the
// journal is lost.
//
// Memory: while a payload is written the garbage collector runs at
// GOGC 10 (Options.InstallGCPercent) and, for xz and zstd payloads whose
// decoder holds a window of up to update.max_window, the slot writer keeps
// 256 KiB chunks in a 512 KiB window (1.75 MiB of buffers instead of 5):
// an install stays within 32 MiB of RSS for any artifact
// (TestInstallPeakRSS).
//
// The journal counts entries into each state; re-entering one more than
// MaxStateEntries times (a boot or crash loop) ends the update with that
// reason. The journal says why an update failed.
//
// The device's own state scripts (Options.ScriptsDir, shipped in its root
// filesystem; Mender names, e.g. ArtifactInstall_Enter_05_x, run in NN
// order; exit 0 continues, 21 retries later, anything else fails; each has
// a timeout) and health checks (agent hooks such as "sensors up" and
// "broker reachable", or commands with a timeout) plug into the states.
// Before the reboot the running (old) release's scripts run, after it the
// new release's: each release brings the logic it was validated with.
//
// # State scripts inside artifacts: refused
//
// An artifact that carries state scripts (scripts/ in its header) is
// refused right after its signature is verified, before its payload is
// read, with ErrArtifactScripts naming them; they are never ignored and
// never run. Why, for a class B/C bedside device:
//
//   - The A/B guarantee holds only while an update changes nothing but the
//     inactive slot until it is committed: a rollback then returns exactly
//     to the last committed release. Artifact scripts run as root on the
//     running, validated system (and on the data partition) before the
//     commit; their side effects survive a rollback, so the old release
//     would run on state its verification never saw.
//   - Installs run while a patient is monitored (only the reboot waits for
//     the clinical-use lock). A script that stops a service, fills the disk
//     or loads the CPU at install time interrupts monitoring; the engine
//     cannot bound what a script does, only how long it may take.
//   - The code that runs on a device is the code of a verified release
//     (IEC 62304 configuration management). Artifact scripts are a second,
//     per-artifact code path outside the release's image and outside its
//     verification, one that no rollback can take back.
//
// What makers use scripts for still has a home: the release's own scripts
// (ScriptsDir) run with Mender's names, order, exit codes and timeouts,
// and a release's data migration belongs to its first start (versioned
// state files), after the reboot and before the commit, where a failure
// rolls back. Build artifacts without scripts (mender-artifact write
// without -s).
//
// Reboots are clinical-use locked: before any reboot the engine asks
// Monitoring(); while a patient is monitored it reports "reboot-pending" and
// polls until monitoring ends (and, if configured, a maintenance window is
// open) or a technician calls ForceReboot.
//
// A reboot request that returns is not a reboot (the reboot unit fails, an
// inhibitor holds it, the request is lost between the roles). Each request
// is journaled (its number and time) before it is made; Install returns
// once it was made, and Run watches it (AwaitReboot, watchdog.go): while
// the process still runs Options.RebootTimeout later, Status says so
// (RebootProblem), the log warns, and the engine asks again, up to
// Options.RebootRetries times (the clinical-use lock still rules; a
// technician's ForceReboot asks at once). Then it gives up: it journals
// StateDisarm, points the boot environment back to the running slot, so an
// unrelated power cycle later cannot boot the armed slot behind its back,
// and ends failed with the reason. A restart during the wait waits out the
// journaled deadline; a restart in disarm finishes it (or, when the late
// reboot did boot the new slot, rolls back).
package engine
