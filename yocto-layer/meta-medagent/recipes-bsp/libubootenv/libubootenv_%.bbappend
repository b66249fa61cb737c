# The boot environment is the file uboot.env on the FAT boot partition
# (see medagent-boot-script); fw_printenv/fw_setenv read it through this
# fw_env.config, like medagent's update engine.
FILESEXTRAPATHS:prepend := "${THISDIR}/files:"
SRC_URI += "file://fw_env.config"

do_install:append() {
    install -d ${D}${sysconfdir}
    install -m 0644 ${WORKDIR}/fw_env.config ${D}${sysconfdir}/fw_env.config
}
