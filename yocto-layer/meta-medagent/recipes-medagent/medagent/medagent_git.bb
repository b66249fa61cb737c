SUMMARY = "medagent: device agent for Linux-based bedside monitors"
DESCRIPTION = "Samples the vital-sign sensors, processes and spools readings, \
publishes them over MQTT with mutual TLS and installs signed A/B updates. \
One static Go binary (CGO_ENABLED=0)."
HOMEPAGE = "https://example.invalid/medagent"
LICENSE = "CLOSED"

# The product repository; pin SRCREV to the release commit in a product distro.
SRC_URI = "git://git.example.invalid/medagent.git;protocol=https;branch=main;destsuffix=${GO_SRCURI_DESTSUFFIX} \
           file://medagent-acquire.service \
           file://medagent-uplink.service \
           file://medagent.service \
           file://medagent.yaml \
           file://fw_env.config \
           file://medagent.conf.tmpfiles \
"
SRCREV = "${AUTOREV}"
PV = "0.1+git"

# The module path is "medagent"; the main package is ./cmd/medagent.
GO_IMPORT = "medagent"
GO_INSTALL = "${GO_IMPORT}/cmd/medagent"
GO_LINKSHARED = ""
GOBUILDFLAGS:append = " -trimpath"
GO_EXTRA_LDFLAGS = "-s -w"
export CGO_ENABLED = "0"

inherit go-mod systemd useradd

# go-mod fetches modules at build time; a product build vendors them or
# runs with a populated GOMODCACHE mirror.
do_compile[network] = "1"

USERADD_PACKAGES = "${PN}"
GROUPADD_PARAM:${PN} = "--system medagent; --system medtech"
USERADD_PARAM:${PN} = " \
    --system --no-create-home --home-dir /var/lib/medagent --shell /sbin/nologin --gid medagent medagent; \
    --system --no-create-home --home-dir /var/lib/medagent --shell /sbin/nologin --gid medagent --groups dialout,gpio,i2c,spi medagent-acq; \
    --system --no-create-home --home-dir /var/lib/medagent --shell /sbin/nologin --gid medagent medagent-up \
"
# The device groups the acquire user joins must exist before it is added.
GROUPADD_PARAM:${PN} += "; --system -f gpio; --system -f i2c; --system -f spi"

SYSTEMD_PACKAGES = "${PN}"
SYSTEMD_SERVICE:${PN} = "medagent-acquire.service medagent-uplink.service"
SYSTEMD_AUTO_ENABLE:${PN} = "enable"

do_install:append() {
    # go.bbclass installs ${B}/${GO_BUILD_BINDIR}/medagent as ${bindir}/medagent.
    install -d ${D}${systemd_system_unitdir}
    install -m 0644 ${WORKDIR}/medagent.service ${D}${systemd_system_unitdir}/
    install -m 0644 ${WORKDIR}/medagent-acquire.service ${D}${systemd_system_unitdir}/
    install -m 0644 ${WORKDIR}/medagent-uplink.service ${D}${systemd_system_unitdir}/

    install -d -m 0750 ${D}${sysconfdir}/medagent
    install -m 0640 ${WORKDIR}/medagent.yaml ${D}${sysconfdir}/medagent/medagent.yaml
    chgrp medagent ${D}${sysconfdir}/medagent ${D}${sysconfdir}/medagent/medagent.yaml
    install -m 0644 ${WORKDIR}/fw_env.config ${D}${sysconfdir}/fw_env.config

    install -d ${D}${nonarch_libdir}/tmpfiles.d
    install -m 0644 ${WORKDIR}/medagent.conf.tmpfiles ${D}${nonarch_libdir}/tmpfiles.d/medagent.conf
}

FILES:${PN} += "${systemd_system_unitdir} ${nonarch_libdir}/tmpfiles.d"
CONFFILES:${PN} = "${sysconfdir}/medagent/medagent.yaml ${sysconfdir}/fw_env.config"
RDEPENDS:${PN} = "libubootenv-bin"
INSANE_SKIP:${PN} += "already-stripped"
