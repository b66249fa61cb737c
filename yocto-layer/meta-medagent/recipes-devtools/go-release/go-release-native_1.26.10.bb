SUMMARY = "Go toolchain: the official Go binary release, for recipes that need a newer Go than the release's go-cross"
DESCRIPTION = "The Go release for the build host, unpacked into its own directory \
of the native sysroot (${libdir}/go-release). It provides nothing that poky's go \
recipes provide (not go-native, not go-cross), so adding this layer changes no \
other recipe. medagent is pure Go (CGO_ENABLED=0): this toolchain cross-compiles \
it for the target with GOOS/GOARCH/GOARM alone, with no C cross-compiler."
HOMEPAGE = "https://go.dev/"
LICENSE = "BSD-3-Clause"
LIC_FILES_CHKSUM = "file://LICENSE;md5=7998cb338f82d15c0eff93b7004d272a"

# The release as the Go module golang.org/toolchain, the form in which the go
# command itself downloads a toolchain (GOTOOLCHAIN): the same files as the
# go${PV}.<os>-<arch>.tar.gz archive of the release, and its hash is in the Go
# checksum database. To check a checksum, or to add one for a new version or
# build host:
#   go mod download -json golang.org/toolchain@v0.0.1-go${PV}.linux-amd64
#   sha256sum <the "Zip" file it names>
GO_RELEASE_MIRROR ?= "https://proxy.golang.org"
GO_RELEASE_MODVER = "v0.0.1-go${PV}.${BUILD_GOOS}-${BUILD_GOARCH}"
SRC_URI = "${GO_RELEASE_MIRROR}/golang.org/toolchain/@v/${GO_RELEASE_MODVER}.zip;name=go_${BUILD_GOTUPLE};downloadfilename=go-toolchain-${GO_RELEASE_MODVER}.zip"
SRC_URI[go_linux_amd64.sha256sum] = "f64ecb0807852be2c98899561c45288a9ad57f4e88f3cd002ffabeccbd03bfe1"
SRC_URI[go_linux_arm64.sha256sum] = "195f18be92553fb272b9c4f9fca6e67b6a04d8831bf6c4b918ac70982fadb444"

UPSTREAM_CHECK_URI = "https://go.dev/dl/"
UPSTREAM_CHECK_REGEX = "go(?P<pver>\d+(\.\d+)+)\.linux"
CVE_PRODUCT = "golang:go"

# The module zip holds one directory, golang.org/toolchain@<version>.
S = "${WORKDIR}/golang.org/toolchain@${GO_RELEASE_MODVER}"

inherit goarch native

# The only build hosts the release (and the checksums above) cover.
COMPATIBLE_HOST = "(x86_64|aarch64).*-linux"

do_configure[noexec] = "1"
do_compile[noexec] = "1"

do_install() {
    install -d ${D}${libdir}/go-release
    cp -R --no-preserve=ownership ${S}/. ${D}${libdir}/go-release/
    # Test data of the standard library is not needed to build.
    find ${D}${libdir}/go-release -depth -type d -name testdata -exec rm -rf {} +
    test -x ${D}${libdir}/go-release/bin/go
}
