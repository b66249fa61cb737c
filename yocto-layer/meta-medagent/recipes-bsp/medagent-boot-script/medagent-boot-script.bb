SUMMARY = "U-Boot boot script of medagent's A/B disk: slots, trial boots and rollback with Mender's variable names"
DESCRIPTION = "boot.cmd with the machine's device names filled in \
(classes/medagent-storage.bbclass), compiled to boot.scr, and the two \
initial U-Boot environment copies, deployed for the FAT boot partition of \
wic/medagent-ab.wks.in."
# Part of medagent, proprietary (LICENSE of the product repository, which
# the agent recipe checks); the layer carries no copy of it.
LICENSE = "CLOSED"

SRC_URI = "file://boot.cmd"
S = "${WORKDIR}"
B = "${WORKDIR}/build"

DEPENDS = "u-boot-mkimage-native u-boot-mkenvimage-native"
inherit kernel-arch deploy nopackages medagent-storage

# The script names the machine's devices: one per machine.
PACKAGE_ARCH = "${MACHINE_ARCH}"

do_configure[noexec] = "1"

do_compile() {
    sed -e 's|@@MEDAGENT_UBOOT_DEV@@|${MEDAGENT_UBOOT_DEV}|g' \
        -e 's|@@MEDAGENT_UBOOT_DEVNUM@@|${MEDAGENT_UBOOT_DEVNUM}|g' \
        -e 's|@@MEDAGENT_BOOT_PART@@|${MEDAGENT_BOOT_PART}|g' \
        -e 's|@@MEDAGENT_ROOT_PART_A@@|${MEDAGENT_ROOT_PART_A}|g' \
        -e 's|@@MEDAGENT_ROOT_PART_A_HEX@@|${MEDAGENT_ROOT_PART_A_HEX}|g' \
        -e 's|@@MEDAGENT_ROOT_PART_B@@|${MEDAGENT_ROOT_PART_B}|g' \
        -e 's|@@MEDAGENT_ROOT_PART_B_HEX@@|${MEDAGENT_ROOT_PART_B_HEX}|g' \
        -e 's|@@MEDAGENT_KERNEL_ROOT_PREFIX@@|${MEDAGENT_KERNEL_ROOT_PREFIX}|g' \
        -e 's|@@MEDAGENT_CONSOLE@@|${MEDAGENT_CONSOLE}|g' \
        -e 's|@@MEDAGENT_ENV_SIZE@@|${MEDAGENT_ENV_SIZE}|g' \
        -e 's|@@MEDAGENT_ENV_FILE1@@|${MEDAGENT_ENV_FILE1}|g' \
        -e 's|@@MEDAGENT_ENV_FILE2@@|${MEDAGENT_ENV_FILE2}|g' \
        -e 's|@@MEDAGENT_KERNEL_BOOTCMD@@|${MEDAGENT_KERNEL_BOOTCMD}|g' \
        -e 's|@@KERNEL_IMAGETYPE@@|${KERNEL_IMAGETYPE}|g' \
        ${S}/boot.cmd > ${B}/boot.cmd
    if grep -o '@@[A-Za-z0-9_]*@@' ${B}/boot.cmd; then
        bbfatal "boot.cmd uses the placeholders above, which this recipe does not fill in"
    fi
    mkimage -A ${UBOOT_ARCH} -O linux -T script -C none -n medagent-boot -d ${B}/boot.cmd ${B}/boot.scr

    # The initial environment, both copies in the redundant layout of
    # fw_env.config (flag 1 in each: equal flags make the first current):
    # slot A, no trial.
    printf '%s\n' mender_boot_part=${MEDAGENT_ROOT_PART_A} mender_boot_part_hex=${MEDAGENT_ROOT_PART_A_HEX} \
        upgrade_available=0 bootcount=0 bootlimit=1 > ${B}/env.txt
    mkenvimage -r -s ${MEDAGENT_ENV_SIZE} -o ${B}/${MEDAGENT_ENV_FILE1} ${B}/env.txt
    cp ${B}/${MEDAGENT_ENV_FILE1} ${B}/${MEDAGENT_ENV_FILE2}
}

do_deploy() {
    install -m 0644 ${B}/boot.scr ${DEPLOYDIR}/boot.scr
    install -m 0644 ${B}/${MEDAGENT_ENV_FILE1} ${B}/${MEDAGENT_ENV_FILE2} ${DEPLOYDIR}/
}
addtask deploy after do_compile before do_build
