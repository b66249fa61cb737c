# medagent A/B boot script for U-Boot.
#
# Build: substitute the @@...@@ values from the machine config, then
#   mkimage -A arm64 -O linux -T script -C none -d boot.cmd boot.scr
# (meta-medagent's medagent-boot-script recipe does it from Yocto variables,
# qemu/build-image.sh from qemu/machine.conf).
#
# Mender's semantics, done in the script because the board's U-Boot may have no
# built-in boot counting and no redundant environment (Debian's qemu_arm64 has
# neither):
#   mender_boot_part      partition number of the slot to boot (A or B)
#   mender_boot_part_hex  the same in hex, for U-Boot's load commands
#   upgrade_available     1 while an installed update runs on trial
#   bootcount             boots of the trial slot so far
#   bootlimit             trial boots allowed before falling back
# Past the limit, altbootcmd switches back to the other slot and clears
# upgrade_available; the agent then sees it is not running the new slot and
# records the rollback.
#
# Redundant environment: two copies, the files ${medagent_envfile1} and
# ${medagent_envfile2} on the FAT boot partition, each in U-Boot's
# CONFIG_ENV_REDUNDANT layout that libubootenv (fw_printenv, fw_setenv) and
# medagent read through /etc/fw_env.config: CRC32 of the data (4 bytes, little
# endian), a flags byte, the data. The copy with the higher flag (255 -> 0
# wraps) whose CRC is valid is current; a write goes to the other copy with
# the flag one higher, so a write torn by a power cut leaves the current copy
# intact. This U-Boot's own "env import -c" and "env export -c" read and write
# the single-copy layout (CRC then data); the script moves the CRC in front of
# the data and back. Only the variables in ${medagent_vars} are imported (a
# copy can never set bootcmd or bootargs) and written.
#
# Positive slot identity: the kernel command line carries
# medagent.slot=a or medagent.slot=b, the slot this script booted; the agent
# trusts that (or a root device that names a slot) and nothing else.

# From the machine config.
setenv medagent_dev @@MEDAGENT_UBOOT_DEV@@
setenv medagent_devnum @@MEDAGENT_UBOOT_DEVNUM@@
setenv medagent_bootpart @@MEDAGENT_BOOT_PART@@
setenv medagent_part_a @@MEDAGENT_ROOT_PART_A@@
setenv medagent_part_a_hex @@MEDAGENT_ROOT_PART_A_HEX@@
setenv medagent_part_b @@MEDAGENT_ROOT_PART_B@@
setenv medagent_part_b_hex @@MEDAGENT_ROOT_PART_B_HEX@@
setenv medagent_rootdev @@MEDAGENT_KERNEL_ROOT_PREFIX@@
setenv medagent_console @@MEDAGENT_CONSOLE@@
setenv medagent_envsize @@MEDAGENT_ENV_SIZE@@
setenv medagent_envfile1 @@MEDAGENT_ENV_FILE1@@
setenv medagent_envfile2 @@MEDAGENT_ENV_FILE2@@

setenv medagent_vars mender_boot_part mender_boot_part_hex upgrade_available bootcount bootlimit
# Buffers in the kernel's load area (free until the kernel loads; scriptaddr
# holds this very script): copy 1, copy 2, and the single-layout work area.
setexpr medagent_buf1 ${kernel_addr_r} + 0
setexpr medagent_buf2 ${kernel_addr_r} + 0x100000
setexpr medagent_work ${kernel_addr_r} + 0x200000

# medagent_import: import the copy at ${medagent_src} (redundant layout).
setenv medagent_import 'cp.b ${medagent_src} ${medagent_work} 4; setexpr medagent_a ${medagent_src} + 5; setexpr medagent_b ${medagent_work} + 4; setexpr medagent_n ${medagent_envsize} - 5; cp.b ${medagent_a} ${medagent_b} ${medagent_n}; setexpr medagent_n ${medagent_envsize} - 1; env import -c ${medagent_work} ${medagent_n} ${medagent_vars}'
# medagent_saveenv: write the variables to the copy that is not current,
# flag one higher; it then becomes current.
setenv medagent_saveenv 'if test ${medagent_cur} = 1; then setenv medagent_cur 2; setenv medagent_dst ${medagent_buf2}; setenv medagent_file ${medagent_envfile2}; else setenv medagent_cur 1; setenv medagent_dst ${medagent_buf1}; setenv medagent_file ${medagent_envfile1}; fi; if itest ${medagent_flag} == ff; then setenv medagent_flag 0; else setexpr medagent_flag ${medagent_flag} + 1; fi; mw.b ${medagent_work} 0 ${medagent_envsize}; setexpr medagent_n ${medagent_envsize} - 1; env export -c -s ${medagent_n} ${medagent_work} ${medagent_vars}; cp.b ${medagent_work} ${medagent_dst} 4; setexpr medagent_a ${medagent_dst} + 4; mw.b ${medagent_a} ${medagent_flag} 1; setexpr medagent_a ${medagent_dst} + 5; setexpr medagent_b ${medagent_work} + 4; setexpr medagent_n ${medagent_envsize} - 5; cp.b ${medagent_b} ${medagent_a} ${medagent_n}; fatwrite ${medagent_dev} ${medagent_devnum}:${medagent_bootpart} ${medagent_dst} ${medagent_file} ${medagent_envsize}'

# Load both copies (a missing file reads as zeros: bad CRC).
mw.b ${medagent_buf1} 0 ${medagent_envsize}
mw.b ${medagent_buf2} 0 ${medagent_envsize}
fatload ${medagent_dev} ${medagent_devnum}:${medagent_bootpart} ${medagent_buf1} ${medagent_envfile1} ${medagent_envsize}
fatload ${medagent_dev} ${medagent_devnum}:${medagent_bootpart} ${medagent_buf2} ${medagent_envfile2} ${medagent_envsize}
setexpr medagent_a ${medagent_buf1} + 4
setexpr.b medagent_flag1 *${medagent_a}
setexpr medagent_a ${medagent_buf2} + 4
setexpr.b medagent_flag2 *${medagent_a}

# The newer copy by flag (U-Boot's env_import_redund order) is tried first;
# if its CRC is bad, the other.
setenv medagent_first 1
if itest ${medagent_flag1} == ff && itest ${medagent_flag2} == 0; then
	setenv medagent_first 2
elif itest ${medagent_flag2} == ff && itest ${medagent_flag1} == 0; then
	setenv medagent_first 1
elif itest ${medagent_flag2} > ${medagent_flag1}; then
	setenv medagent_first 2
fi
setenv medagent_cur 0
if test ${medagent_first} = 2; then
	setenv medagent_src ${medagent_buf2}
	if run medagent_import; then
		setenv medagent_cur 2; setenv medagent_flag ${medagent_flag2}
	else
		setenv medagent_src ${medagent_buf1}
		if run medagent_import; then setenv medagent_cur 1; setenv medagent_flag ${medagent_flag1}; fi
	fi
else
	setenv medagent_src ${medagent_buf1}
	if run medagent_import; then
		setenv medagent_cur 1; setenv medagent_flag ${medagent_flag1}
	else
		setenv medagent_src ${medagent_buf2}
		if run medagent_import; then setenv medagent_cur 2; setenv medagent_flag ${medagent_flag2}; fi
	fi
fi
if test ${medagent_cur} = 0; then
	# Both copies unreadable: never written (first boot of a bad image) or
	# damaged twice. Boot slot A without a trial and write nothing; the agent
	# refuses to act on an environment it cannot read.
	echo "medagent: no valid environment copy in ${medagent_envfile1} or ${medagent_envfile2}: booting slot A with defaults"
	setenv medagent_flag 0
	setenv mender_boot_part
	setenv upgrade_available
	setenv bootcount
	setenv bootlimit
fi
echo "medagent: environment copy ${medagent_cur} (flags ${medagent_flag1} ${medagent_flag2})"

if test -z "${mender_boot_part}"; then setenv mender_boot_part ${medagent_part_a}; fi
if test -z "${bootlimit}"; then setenv bootlimit 1; fi
if test -z "${bootcount}"; then setenv bootcount 0; fi
if test -z "${upgrade_available}"; then setenv upgrade_available 0; fi

setenv altbootcmd 'echo "medagent: bootcount ${bootcount} > bootlimit ${bootlimit}: rolling back"; if test "${mender_boot_part}" = ${medagent_part_a}; then setenv mender_boot_part ${medagent_part_b}; else setenv mender_boot_part ${medagent_part_a}; fi; setenv upgrade_available 0; setenv bootcount 0; run medagent_normalize; if run medagent_saveenv; then echo "medagent: rollback saved in copy ${medagent_cur}"; else echo "medagent: cannot save the environment: booting slot ${mender_boot_part} all the same"; fi'
setenv medagent_normalize 'if test "${mender_boot_part}" = ${medagent_part_b}; then setenv mender_boot_part_hex ${medagent_part_b_hex}; setenv medagent_slot b; else setenv mender_boot_part ${medagent_part_a}; setenv mender_boot_part_hex ${medagent_part_a_hex}; setenv medagent_slot a; fi'
run medagent_normalize

if test "${upgrade_available}" = 1; then
	setexpr bootcount ${bootcount} + 1
	if itest ${bootcount} > ${bootlimit}; then
		run altbootcmd
	elif run medagent_saveenv; then
		echo "medagent: trial boot ${bootcount} of ${bootlimit} saved in copy ${medagent_cur}"
	else
		# An uncounted trial could repeat forever: boot the other (the
		# committed) slot instead; the agent finds itself there and rolls back.
		echo "medagent: cannot save bootcount: booting the committed slot instead of the trial"
		if test "${mender_boot_part}" = ${medagent_part_a}; then setenv mender_boot_part ${medagent_part_b}; else setenv mender_boot_part ${medagent_part_a}; fi
		setenv upgrade_available 0
		run medagent_normalize
	fi
fi

echo "medagent: booting slot ${mender_boot_part} (upgrade_available=${upgrade_available} bootcount=${bootcount} bootlimit=${bootlimit})"
setenv bootargs "root=${medagent_rootdev}${mender_boot_part} rootfstype=ext4 rootwait ro console=${medagent_console} panic=5 quiet medagent.slot=${medagent_slot}"
echo "medagent: bootargs ${bootargs}"
# The kernel of the booted slot (/boot/Image with booti on arm64, zImage
# with bootz on arm), and an initramfs only if the slot has one: the bench
# image's Debian kernel needs one, meta-medagent's image has none.
ext4load ${medagent_dev} ${medagent_devnum}:${mender_boot_part_hex} ${kernel_addr_r} /boot/@@KERNEL_IMAGETYPE@@
setenv medagent_initrd -
if ext4load ${medagent_dev} ${medagent_devnum}:${mender_boot_part_hex} ${ramdisk_addr_r} /boot/initrd; then
	setenv medagent_initrd ${ramdisk_addr_r}:${filesize}
fi
@@MEDAGENT_KERNEL_BOOTCMD@@ ${kernel_addr_r} ${medagent_initrd} ${fdtcontroladdr}
echo "medagent: boot failed"
reset
