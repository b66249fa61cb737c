// Package update groups medagent's A/B (dual root filesystem) update machinery.
//
// The pieces, each its own package:
//
//   - update/artifact reads and verifies Mender artifact v3 files as a stream
//     (signature over the header, SHA-256 of each payload checked at EOF).
//   - update/bootenv reads and writes the boot loader environment: U-Boot
//     (single or redundant copies located by fw_env.config, byte-compatible with
//     libubootenv's fw_printenv/fw_setenv) and the GRUB environment block.
//   - update/slot finds the running slot (A or B) and streams a payload into the
//     inactive one with periodic fsync, a size check and a SHA-256 read-back.
//   - update/engine is the journaled state machine that ties them together with
//     Mender client 3.x semantics: install arms a trial boot
//     (upgrade_available=1, bootcount=0, mender_boot_part=<inactive>), the boot
//     loader counts boots and falls back on its own (meta-mender's
//     bootcount/bootlimit/altbootcmd), and after the reboot the engine verifies
//     the running slot, runs health checks and commits (upgrade_available=0) or
//     rolls back.
//
// Data flows from the uplink (an artifact file, stdin or an HTTPS URL) through
// artifact into slot, and from engine into bootenv; the journal file of the
// engine is the only state that survives a reboot besides the boot environment.
package update
