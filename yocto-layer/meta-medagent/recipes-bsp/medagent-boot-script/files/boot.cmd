# medagent A/B boot script for U-Boot (compile: mkimage -A arm64 -T script -C none -d boot.cmd boot.scr).
#
# Mender's semantics, done in the script because the board's U-Boot may have no
# built-in boot counting (Debian's qemu_arm64 has none):
#   mender_boot_part      partition number of the slot to boot (2 = A, 3 = B)
#   mender_boot_part_hex  the same in hex, for U-Boot's load commands
#   upgrade_available     1 while an installed update runs on trial
#   bootcount             boots of the trial slot so far
#   bootlimit             trial boots allowed before falling back
# Past the limit, altbootcmd switches back to the other slot and clears
# upgrade_available; the agent then sees it is not running the new slot and
# records the rollback.
#
# The environment buffer is kernel_addr_r (free until the kernel loads;
# scriptaddr holds this very script). The environment lives in the file uboot.env on the FAT boot partition, in
# the single-copy CRC32 layout ("env export -c") that fw_printenv/fw_setenv
# read and write through /etc/fw_env.config.

setenv medagent_dev virtio
setenv medagent_devnum 0
setenv medagent_envfile uboot.env
setenv medagent_envsize 0x4000

if fatload ${medagent_dev} ${medagent_devnum}:1 ${kernel_addr_r} ${medagent_envfile}; then
	env import -c ${kernel_addr_r} ${medagent_envsize}
else
	echo "medagent: no ${medagent_envfile}, using defaults"
fi

if test -z "${mender_boot_part}"; then setenv mender_boot_part 2; fi
if test -z "${bootlimit}"; then setenv bootlimit 1; fi
if test -z "${bootcount}"; then setenv bootcount 0; fi
if test -z "${upgrade_available}"; then setenv upgrade_available 0; fi

setenv medagent_saveenv 'env export -c -s ${medagent_envsize} ${kernel_addr_r}; fatwrite ${medagent_dev} ${medagent_devnum}:1 ${kernel_addr_r} ${medagent_envfile} ${medagent_envsize}'
setenv altbootcmd 'echo "medagent: bootcount ${bootcount} > bootlimit ${bootlimit}: rolling back"; if test "${mender_boot_part}" = 2; then setenv mender_boot_part 3; else setenv mender_boot_part 2; fi; setenv upgrade_available 0; setenv bootcount 0; run medagent_saveenv'

if test "${upgrade_available}" = 1; then
	setexpr bootcount ${bootcount} + 1
	if itest ${bootcount} > ${bootlimit}; then
		run altbootcmd
	else
		run medagent_saveenv
	fi
fi

if test "${mender_boot_part}" = 3; then setenv mender_boot_part_hex 3; else setenv mender_boot_part 2; setenv mender_boot_part_hex 2; fi

echo "medagent: booting slot ${mender_boot_part} (upgrade_available=${upgrade_available} bootcount=${bootcount} bootlimit=${bootlimit})"
setenv bootargs "root=/dev/vda${mender_boot_part} rootfstype=ext4 rootwait ro console=ttyAMA0 panic=5 quiet"
ext4load ${medagent_dev} ${medagent_devnum}:${mender_boot_part_hex} ${kernel_addr_r} /boot/Image
ext4load ${medagent_dev} ${medagent_devnum}:${mender_boot_part_hex} ${ramdisk_addr_r} /boot/initrd
booti ${kernel_addr_r} ${ramdisk_addr_r}:${filesize} ${fdtcontroladdr}
echo "medagent: boot failed"
reset
