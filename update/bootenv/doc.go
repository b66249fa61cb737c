// Package bootenv reads and writes boot loader environments.
//
// Two backends implement ReadWriter, the two-method interface the update
// engine consumes (shaped like Mender's BootEnvReadWriter):
//
//   - UBoot: the U-Boot environment as libubootenv (fw_printenv/fw_setenv
//     0.3.x) and U-Boot itself store it, located by a standard fw_env.config.
//     A single copy is CRC32 (little endian, zlib polynomial) followed by the
//     data area; a redundant copy adds one flag byte after the CRC. The data
//     area is a sequence of NUL-terminated "name=value" strings ended by an
//     empty string. With two copies the valid copy with the newer flag is
//     current; a write goes to the other copy, is fsynced, and only then
//     becomes current through its flag, so a power cut leaves the old or the
//     new environment. Flags are "incremental" (a counter, the default for
//     files and block devices) or "boolean" (1 active, 0 obsolete, for NOR
//     flash), both as libubootenv implements them.
//     With a single copy there is no such protection: a power cut during the
//     write leaves a copy with a bad CRC and U-Boot falls back to its built-in
//     default environment. Use two copies on devices that take updates.
//   - Grub: the GRUB environment block (grub-editenv format): a 1024-byte file
//     starting "# GRUB Environment Block\n", "name=value\n" lines, padded with
//     '#'. It is replaced atomically (temp file, fsync, rename, fsync dir).
//
// References: U-Boot env/common.c and include/env.h, libubootenv
// src/uboot_env.c and docs/fw_env_config.md, GRUB grub-core/lib/envblk.c.
package bootenv
