SUMMARY = "U-Boot boot script with A/B slots, boot counting (Mender variable names) and a redundant environment"
LICENSE = "CLOSED"

SRC_URI = "file://boot.cmd"

DEPENDS = "u-boot-mkimage-native u-boot-mkenvimage-native"
inherit deploy nopackages

S = "${WORKDIR}"

# The machine config: boot.cmd's @@NAME@@ placeholders. Set them in the
# machine config (or local.conf) of another board. The defaults match
# wic/medagent-ab.wks (one mmcblk0 disk: p1 boot, p2 A, p3 B) and the
# fw_env.config files of this layer (two copies on the boot partition).
MEDAGENT_UBOOT_DEV ?= "mmc"
MEDAGENT_UBOOT_DEVNUM ?= "0"
MEDAGENT_BOOT_PART ?= "1"
MEDAGENT_ROOT_PART_A ?= "2"
MEDAGENT_ROOT_PART_B ?= "3"
MEDAGENT_KERNEL_ROOT_PREFIX ?= "/dev/mmcblk0p"
# First of SERIAL_CONSOLES ("115200;ttyAMA0" -> "ttyAMA0,115200").
MEDAGENT_CONSOLE ?= "${@','.join(reversed((d.getVar('SERIAL_CONSOLES') or '115200;ttyAMA0').split()[0].split(';')))}"
MEDAGENT_ENV_SIZE ?= "0x4000"
MEDAGENT_ENV_FILE1 ?= "uboot.env"
MEDAGENT_ENV_FILE2 ?= "uboot-redund.env"

do_compile() {
    sed -e 's|@@MEDAGENT_UBOOT_DEV@@|${MEDAGENT_UBOOT_DEV}|g' \
        -e 's|@@MEDAGENT_UBOOT_DEVNUM@@|${MEDAGENT_UBOOT_DEVNUM}|g' \
        -e 's|@@MEDAGENT_BOOT_PART@@|${MEDAGENT_BOOT_PART}|g' \
        -e 's|@@MEDAGENT_ROOT_PART_A@@|${MEDAGENT_ROOT_PART_A}|g' \
        -e 's|@@MEDAGENT_ROOT_PART_A_HEX@@|${@'%x' % int(d.getVar('MEDAGENT_ROOT_PART_A'))}|g' \
        -e 's|@@MEDAGENT_ROOT_PART_B@@|${MEDAGENT_ROOT_PART_B}|g' \
        -e 's|@@MEDAGENT_ROOT_PART_B_HEX@@|${@'%x' % int(d.getVar('MEDAGENT_ROOT_PART_B'))}|g' \
        -e 's|@@MEDAGENT_KERNEL_ROOT_PREFIX@@|${MEDAGENT_KERNEL_ROOT_PREFIX}|g' \
        -e 's|@@MEDAGENT_CONSOLE@@|${MEDAGENT_CONSOLE}|g' \
        -e 's|@@MEDAGENT_ENV_SIZE@@|${MEDAGENT_ENV_SIZE}|g' \
        -e 's|@@MEDAGENT_ENV_FILE1@@|${MEDAGENT_ENV_FILE1}|g' \
        -e 's|@@MEDAGENT_ENV_FILE2@@|${MEDAGENT_ENV_FILE2}|g' \
        ${S}/boot.cmd > ${B}/boot.cmd
    if grep -q '@@[A-Z0-9_]*@@' ${B}/boot.cmd; then
        bbfatal "boot.cmd has placeholders this recipe does not set: $(grep -o '@@[A-Z0-9_]*@@' ${B}/boot.cmd | sort -u)"
    fi
    mkimage -A ${UBOOT_ARCH} -O linux -T script -C none -n medagent-boot -d ${B}/boot.cmd ${B}/boot.scr
    # The initial environment, both copies (redundant layout, flag 1 in
    # each: equal flags make the first current): slot A, no trial.
    printf '%s\n' mender_boot_part=${MEDAGENT_ROOT_PART_A} \
        mender_boot_part_hex=${@'%x' % int(d.getVar('MEDAGENT_ROOT_PART_A'))} \
        upgrade_available=0 bootcount=0 bootlimit=1 > ${B}/env.txt
    mkenvimage -r -s ${MEDAGENT_ENV_SIZE} -o ${B}/${MEDAGENT_ENV_FILE1} ${B}/env.txt
    cp ${B}/${MEDAGENT_ENV_FILE1} ${B}/${MEDAGENT_ENV_FILE2}
}

do_deploy() {
    install -m 0644 ${B}/boot.scr ${DEPLOYDIR}/boot.scr
    install -m 0644 ${B}/${MEDAGENT_ENV_FILE1} ${DEPLOYDIR}/${MEDAGENT_ENV_FILE1}
    install -m 0644 ${B}/${MEDAGENT_ENV_FILE2} ${DEPLOYDIR}/${MEDAGENT_ENV_FILE2}
}
addtask deploy after do_compile before do_build

COMPATIBLE_MACHINE = ".*"
