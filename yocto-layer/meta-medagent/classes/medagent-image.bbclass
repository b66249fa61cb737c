# For images of a medagent device: the A/B disk (wic/medagent-ab.wks.in), the
# boot script and the two U-Boot environment copies on the boot partition,
# the mounts of the boot and data partitions, and a read-only root file
# system. medagent-image.bb uses it; a product image may inherit it instead.
#
#   inherit core-image medagent-image
#   IMAGE_INSTALL:append = " medagent"

inherit medagent-storage features_check

# The units rely on systemd (INIT_MANAGER = "systemd" in local.conf or the distro).
REQUIRED_DISTRO_FEATURES = "systemd"

IMAGE_FEATURES += "read-only-rootfs"

# Sizes of each rootfs slot and of the data partition (wks --fixed-size).
MEDAGENT_ROOTFS_SIZE ?= "512M"
MEDAGENT_DATA_SIZE ?= "1024M"

# wic image for flashing, ext4 for update artifacts (mender-artifact
# write rootfs-image -f ...ext4).
IMAGE_FSTYPES += "wic wic.bmap ext4"
WKS_FILE = "medagent-ab.wks.in"
WKS_FILE_DEPENDS:append = " medagent-boot-script"
do_image_wic[depends] += "medagent-boot-script:do_deploy"
IMAGE_BOOT_FILES = "boot.scr ${MEDAGENT_ENV_FILE1} ${MEDAGENT_ENV_FILE2}"

# The kernel is loaded from /boot of the booted slot.
IMAGE_INSTALL:append = " kernel-image"

# The boot and data partitions: the same device names as the wks layout and
# the boot script. The bind mount of the agent's state waits for
# medagent-datadir.service (package medagent), which creates /data/medagent
# on a new data partition.
medagent_fstab() {
    install -d ${IMAGE_ROOTFS}${MEDAGENT_BOOT_MOUNT} ${IMAGE_ROOTFS}${MEDAGENT_DATA_MOUNT}
    cat >> ${IMAGE_ROOTFS}${sysconfdir}/fstab <<FSTAB
# medagent A/B disk (medagent-image.bbclass)
${MEDAGENT_KERNEL_ROOT_PREFIX}${MEDAGENT_BOOT_PART}	${MEDAGENT_BOOT_MOUNT}	vfat	defaults,sync,noatime,umask=0077	0	0
${MEDAGENT_KERNEL_ROOT_PREFIX}${MEDAGENT_DATA_PART}	${MEDAGENT_DATA_MOUNT}	ext4	defaults,noatime	0	2
${MEDAGENT_DATA_MOUNT}/medagent	${localstatedir}/lib/medagent	none	bind,x-systemd.requires=medagent-datadir.service	0	0
FSTAB
}
ROOTFS_POSTPROCESS_COMMAND += "medagent_fstab"
