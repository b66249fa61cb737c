SUMMARY = "U-Boot boot script with A/B slots and boot counting (Mender variable names)"
LICENSE = "CLOSED"

SRC_URI = "file://boot.cmd"

DEPENDS = "u-boot-mkimage-native"
inherit deploy nopackages

S = "${WORKDIR}"

do_compile() {
    mkimage -A ${UBOOT_ARCH} -O linux -T script -C none -n medagent-boot -d ${S}/boot.cmd ${B}/boot.scr
}

do_deploy() {
    install -m 0644 ${B}/boot.scr ${DEPLOYDIR}/boot.scr
}
addtask deploy after do_compile before do_build

COMPATIBLE_MACHINE = ".*"
