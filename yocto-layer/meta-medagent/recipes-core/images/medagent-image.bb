SUMMARY = "Bedside monitor image: medagent on an A/B disk with a read-only root file system"
DESCRIPTION = "core-image with the medagent agent (acquire and uplink roles \
under their own users), fw_printenv/fw_setenv, the kernel in /boot of each \
slot, and the A/B disk of medagent-image.bbclass."
LICENSE = "MIT"

inherit core-image medagent-image

IMAGE_INSTALL:append = " medagent libubootenv-bin"
