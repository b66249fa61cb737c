# Mount the boot partition (U-Boot environment file) and the data partition.
FILESEXTRAPATHS:prepend := "${THISDIR}/files:"
SRC_URI += "file://fstab-medagent"

do_install:append() {
    cat ${WORKDIR}/fstab-medagent >> ${D}${sysconfdir}/fstab
    install -d ${D}/uboot ${D}/data
}
FILES:${PN} += "/uboot /data"
