SUMMARY = "Bedside monitor image: core-image with medagent on an A/B disk"
LICENSE = "MIT"

inherit core-image

IMAGE_FEATURES += "read-only-rootfs"
IMAGE_INSTALL:append = " medagent libubootenv-bin kernel-image kernel-module-virtio-blk"

# systemd must be the init manager (the units rely on it): set in local.conf
# or the distro, see README.md (INIT_MANAGER = "systemd").
REQUIRED_DISTRO_FEATURES = "systemd"
inherit features_check

# The A/B disk: boot.scr and an initial environment on the FAT partition.
IMAGE_FSTYPES += "wic wic.bmap ext4"
WKS_FILE = "medagent-ab.wks"
do_image_wic[depends] += "medagent-boot-script:do_deploy"
# boot.scr and both copies of the environment (medagent-boot-script).
IMAGE_BOOT_FILES = "boot.scr uboot.env uboot-redund.env"

# Mount points of the boot and data partitions.
create_medagent_mountpoints() {
    install -d ${IMAGE_ROOTFS}/uboot ${IMAGE_ROOTFS}/data
}
ROOTFS_POSTPROCESS_COMMAND += "create_medagent_mountpoints;"

# The data partition keeps the agent's state across updates.
IMAGE_ROOTFS_EXTRA_SPACE = "0"
