SUMMARY = "medagent: device agent for Linux-based bedside monitors"
DESCRIPTION = "Samples the vital-sign sensors, processes and spools readings, \
publishes them over MQTT with mutual TLS and installs signed A/B updates. \
One static Go binary (CGO_ENABLED=0), its systemd units, users and groups, \
udev rules for the sensor buses, and its configuration."
HOMEPAGE = "https://example.invalid/medagent"

# The product repository, pinned to a release commit. The units, tmpfiles,
# users, udev rules and configuration are installed from configs/ of that
# same commit: the files the QEMU bench image installs (one source for both).
# A release bumps SRCREV and regenerates medagent-go-mods.inc (README.md).
MEDAGENT_GIT_URI ?= "git://git.example.invalid/medagent.git;protocol=https;branch=main"
SRC_URI = "${MEDAGENT_GIT_URI}"
SRCREV = "8a4ed564cb126f032ca55e508bf1e60aa6c3b0fa"
PV = "0.1+git"

# go.bbclass unpacks the git tree into ${S}/src/${GO_IMPORT}.
S = "${WORKDIR}/git"
MEDAGENT_SRC = "${S}/src/${GO_IMPORT}"

# The module path is "medagent"; the main package is ./cmd/medagent.
GO_IMPORT = "medagent"
GO_INSTALL = "${GO_IMPORT}/cmd/medagent"

inherit go-mod systemd useradd

# The Go modules, each fetched into a file:// module proxy (zip and go.mod,
# as `go mod download` stores them; go checks them against go.sum), and
# LICENSE/LIC_FILES_CHKSUM: medagent's own licence and every linked module's.
# Generated from go.mod/go.sum at SRCREV (TestGoModules -update).
require medagent-go-mods.inc

# --- Toolchain -----------------------------------------------------------
# go.mod asks for Go 1.26; scarthgap's go-cross is 1.22. medagent is pure Go
# (CGO_ENABLED=0), so the official Go release (go-release-native) builds it
# for the target with GOOS/GOARCH/GOARM from goarch.bbclass, with no C
# cross-compiler and no go-runtime. Nothing else in the build changes.
DEPENDS_GOLANG:class-target = "go-release-native"
GOROOT = "${STAGING_LIBDIR_NATIVE}/go-release"
GO = "${GOROOT}/bin/go"
GOTOOLDIR = "${GOROOT}/pkg/tool/${BUILD_GOTUPLE}"
export GOTOOLCHAIN = "local"
export CGO_ENABLED = "0"

# Modules only from the file:// proxy that do_unpack filled; nothing from
# the network in do_compile.
export GOPROXY = "file://${WORKDIR}/go-mod-proxy"
export GOFLAGS = "-mod=readonly"

# do_populate_lic reads the modules' licence files (LIC_FILES_CHKSUM in
# medagent-go-mods.inc) before go unpacks the module zips in do_compile:
# copy them out of the zips right after do_unpack.
GO_MOD_LICENSES = "${WORKDIR}/go-mod-licenses"
python medagent_go_mod_licenses() {
    import glob, os, re, zipfile
    licence = re.compile(r"^[^@]+@[^/]+/(LICEN[CS]E|COPYING|NOTICE|edl-v10|epl-v20)[^/]*$")
    dest = d.getVar("GO_MOD_LICENSES")
    bb.utils.remove(dest, recurse=True)
    for z in sorted(glob.glob(d.expand("${WORKDIR}/go-mod-proxy/**/*.zip"), recursive=True)):
        with zipfile.ZipFile(z) as zf:
            for name in zf.namelist():
                if not licence.match(name):
                    continue
                if ".." in name.split("/"):
                    bb.fatal("%s: bad entry name %s" % (z, name))
                out = os.path.join(dest, name)
                bb.utils.mkdirhier(os.path.dirname(out))
                with open(out, "wb") as f:
                    f.write(zf.read(name))
}
do_unpack[postfuncs] += "medagent_go_mod_licenses"

# One static, non-PIE executable, as the product ships it everywhere: no
# dynamic loader, no libc. go.bbclass adds -buildmode=pie (which would make
# it a dynamic executable) for the textrel QA check: a static binary has no
# dynamic section, hence no text relocations. Version and commit as the
# Makefile sets them. Symbols and DWARF stay in: OE splits them into
# ${PN}-dbg and strips the binary in do_package.
GOBUILDFLAGS:remove = "-buildmode=pie"
GOBUILDFLAGS:append = " -buildvcs=false"
GO_LINUXLOADER = ""
GO_EXTRA_LDFLAGS = "-buildid= -X medagent/version.Version=${PV} -X medagent/version.Commit=${SRCREV}"

# The device binary's build flags are the ones make build uses, from the one
# list of the source at SRCREV: scripts/device-buildflags (no HTTP/2,
# inlining only where speed counts; the file says why). The file comes with
# the source, so do_compile reads it and hands the flags to the go command
# in GOFLAGS, which applies them to go list and go install as if they were
# on the command line (go.bbclass passes neither -tags nor -gcflags there).
do_compile:prepend() {
    buildflags=${MEDAGENT_SRC}/scripts/device-buildflags
    [ -f "$buildflags" ] || bbfatal "$buildflags is missing: SRCREV must be a commit that has it"
    export GOFLAGS="$GOFLAGS $(grep -v '^#' "$buildflags" | tr '\n' ' ')"
}

# --- Man page ------------------------------------------------------------
# docs/medagent.1 is "medagent help --man" of the same commit (make man; a
# test in cli/ keeps it current), installed into ${PN}-doc.
MEDAGENT_MAN_PAGES = "docs/medagent.1"

# --- Users, groups, units -------------------------------------------------
# The users and groups of configs/systemd/medagent.sysusers (installed too),
# created here at build time because the root file system is read-only.
# TestUsersMatchSysusers keeps the two in step.
USERADD_PACKAGES = "${PN}"
GROUPADD_PARAM:${PN} = " \
    --system medagent-acq; --system medagent-up; --system medagent; \
    --system -f medtech; --system -f i2c; --system -f spi; --system -f gpio; --system -f tss; --system -f dialout \
"
USERADD_PARAM:${PN} = " \
    --system --no-create-home --home-dir /var/lib/medagent/acquire --shell /usr/sbin/nologin --gid medagent-acq --groups dialout,gpio,i2c,medagent,spi,tss medagent-acq; \
    --system --no-create-home --home-dir /var/lib/medagent/uplink --shell /usr/sbin/nologin --gid medagent-up --groups medagent,tss medagent-up \
"

SYSTEMD_PACKAGES = "${PN}"
SYSTEMD_SERVICE:${PN} = "medagent-acquire.service medagent-uplink.service medagent-reboot.path"
SYSTEMD_AUTO_ENABLE:${PN} = "enable"

# What do_install takes from configs/ (source:destination), besides
# medagent.yaml. TestRecipeInstallsConfigs checks that this is exactly what
# configs/ holds.
MEDAGENT_CONFIGS = " \
    systemd/medagent.service:${systemd_system_unitdir}/medagent.service \
    systemd/medagent-acquire.service:${systemd_system_unitdir}/medagent-acquire.service \
    systemd/medagent-uplink.service:${systemd_system_unitdir}/medagent-uplink.service \
    systemd/medagent-reboot.path:${systemd_system_unitdir}/medagent-reboot.path \
    systemd/medagent-reboot.service:${systemd_system_unitdir}/medagent-reboot.service \
    systemd/medagent-datadir.service:${systemd_system_unitdir}/medagent-datadir.service \
    systemd/medagent.conf.tmpfiles:${nonarch_libdir}/tmpfiles.d/medagent.conf \
    systemd/medagent.sysusers:${nonarch_libdir}/sysusers.d/medagent.conf \
    systemd/medagent.modules-load:${nonarch_libdir}/modules-load.d/medagent.conf \
    udev/60-medagent.rules:${nonarch_base_libdir}/udev/rules.d/60-medagent.rules \
    fw_env.config:${sysconfdir}/fw_env.config \
"

do_install() {
    install -d ${D}${bindir}
    install -m 0755 ${B}/${GO_BUILD_BINDIR}/medagent ${D}${bindir}/medagent

    for pair in ${MEDAGENT_CONFIGS}; do
        install -D -m 0644 ${MEDAGENT_SRC}/configs/${pair%%:*} ${D}${pair#*:}
    done

    # The product configuration; what differs per device is provisioned
    # into /var/lib/medagent/provision (--device-config).
    install -d ${D}${sysconfdir}/medagent
    install -m 0644 ${MEDAGENT_SRC}/configs/medagent.yaml ${D}${sysconfdir}/medagent/medagent.yaml

    # Mount point of /data/medagent on the data partition (fstab of
    # medagent-image.bbclass); the root file system is read-only.
    install -d ${D}${localstatedir}/lib/medagent

    # The running software of an image the update engine has not replaced
    # yet (mender.artifact_info, as meta-mender writes it): the name the
    # image's update artifact is written with, from the one variable
    # MEDAGENT_ARTIFACT_NAME (conf/layer.conf).
    [ -n "${MEDAGENT_ARTIFACT_NAME}" ] || bbfatal "MEDAGENT_ARTIFACT_NAME is empty: set the release's artifact name"
    install -d ${D}${sysconfdir}/mender
    printf 'artifact_name=%s\n' "${MEDAGENT_ARTIFACT_NAME}" > ${D}${sysconfdir}/mender/artifact_info
    chmod 0644 ${D}${sysconfdir}/mender/artifact_info

    for page in ${MEDAGENT_MAN_PAGES}; do
        section=${page##*.}
        install -D -m 0644 ${MEDAGENT_SRC}/$page ${D}${mandir}/man$section/$(basename $page)
    done
}

FILES:${PN} += " \
    ${systemd_system_unitdir} \
    ${nonarch_libdir}/tmpfiles.d \
    ${nonarch_libdir}/sysusers.d \
    ${nonarch_libdir}/modules-load.d \
    ${nonarch_base_libdir}/udev/rules.d \
    ${localstatedir}/lib/medagent \
"
CONFFILES:${PN} = "${sysconfdir}/medagent/medagent.yaml ${sysconfdir}/fw_env.config"
# fw_printenv/fw_setenv for technicians; the agent reads the environment itself.
RDEPENDS:${PN} = "libubootenv-bin"
# The drivers of the sensors' device nodes: the ones medagent.modules-load
# loads at boot (usbserial, cdc_acm, i2c-dev) and the USB-serial chips of
# oximeter cables, which udev loads when one is plugged in. Recommended, not
# depended on: a kernel that builds a driver in has no package for it.
RRECOMMENDS:${PN} += " \
    kernel-module-usbserial kernel-module-cdc-acm kernel-module-i2c-dev \
    kernel-module-ftdi-sio kernel-module-cp210x kernel-module-pl2303 kernel-module-ch341 \
"
