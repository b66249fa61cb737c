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
// Every state is entered through a versioned JSON journal written durably
// (temp file, fsync, rename, fsync of the directory) before its side effects,
// and every state's actions are idempotent, so after a power cut at any
// instant Resume repeats the interrupted state. The journal counts entries
// into each state; re-entering one more than MaxStateEntries times (a boot or
// crash loop) ends the update with that reason. The journal says why an
// update failed.
//
// Integrator state scripts (Mender names, e.g. ArtifactInstall_Enter_05_x,
// run in NN order; exit 0 continues, 21 retries later, anything else fails;
// each has a timeout) and health checks (agent hooks such as "sensors up" and
// "broker reachable", or commands with a timeout) plug into the states.
//
// Reboots are clinical-use locked: before any reboot the engine asks
// Monitoring(); while a patient is monitored it reports "reboot-pending" and
// polls until monitoring ends (and, if configured, a maintenance window is
// open) or a technician calls ForceReboot.
package engine
