# medagent's A/B disk: one set of names for the wks layout, the mounts, the
# U-Boot boot script and fw_env.config, so that they always agree.
#
# Set by the machine (conf/machine/<board>.conf) or local.conf; the defaults
# fit an eMMC board and, for qemu machines, QEMU's virtio disk:
#   MEDAGENT_STORAGE_DISK   kernel name of the disk: mmcblk0, vda, sda
#   MEDAGENT_UBOOT_DEV      U-Boot's interface for it: mmc, virtio, scsi, usb
#   MEDAGENT_UBOOT_DEVNUM   U-Boot's device number on that interface
#   MEDAGENT_CONSOLE        kernel console (ttyAMA0,115200); default: the
#                           first of the machine's SERIAL_CONSOLES
#   MEDAGENT_KERNEL_BOOTCMD booti (arm64 Image), bootz (arm zImage) or bootm
#                           (uImage); default: from KERNEL_IMAGETYPE
MEDAGENT_STORAGE_DISK ?= "${@'vda' if 'qemuall' in d.getVar('MACHINEOVERRIDES').split(':') else 'mmcblk0'}"
MEDAGENT_UBOOT_DEV ?= "${@'virtio' if 'qemuall' in d.getVar('MACHINEOVERRIDES').split(':') else 'mmc'}"
MEDAGENT_UBOOT_DEVNUM ?= "0"
MEDAGENT_CONSOLE ?= "${@','.join(reversed((d.getVar('SERIAL_CONSOLES') or '115200;ttyAMA0').split()[0].split(';')))}"
MEDAGENT_KERNEL_BOOTCMD ?= "${@{'Image': 'booti', 'zImage': 'bootz'}.get(d.getVar('KERNEL_IMAGETYPE'), 'bootm')}"

# Derived: the kernel's partition names (/dev/mmcblk0p1, /dev/vda1).
MEDAGENT_STORAGE_DEVICE = "/dev/${MEDAGENT_STORAGE_DISK}"
MEDAGENT_KERNEL_ROOT_PREFIX = "${MEDAGENT_STORAGE_DEVICE}${@'p' if d.getVar('MEDAGENT_STORAGE_DISK')[-1:].isdigit() else ''}"

# The layout itself (wic/medagent-ab.wks.in), not a machine setting:
# partition numbers, and the two copies of the U-Boot environment on the
# FAT boot partition (configs/fw_env.config of the medagent sources).
MEDAGENT_BOOT_PART = "1"
MEDAGENT_ROOT_PART_A = "2"
MEDAGENT_ROOT_PART_B = "3"
MEDAGENT_DATA_PART = "4"
MEDAGENT_ROOT_PART_A_HEX = "${@'%x' % int(d.getVar('MEDAGENT_ROOT_PART_A'))}"
MEDAGENT_ROOT_PART_B_HEX = "${@'%x' % int(d.getVar('MEDAGENT_ROOT_PART_B'))}"
MEDAGENT_BOOT_MOUNT = "/uboot"
MEDAGENT_DATA_MOUNT = "/data"
MEDAGENT_ENV_SIZE = "0x4000"
MEDAGENT_ENV_FILE1 = "uboot.env"
MEDAGENT_ENV_FILE2 = "uboot-redund.env"
