// Package yoctolayer holds no code: it is the home of the Yocto layer
// meta-medagent (recipes, classes, the A/B wic layout, the U-Boot boot
// script) and of the tests that check it without BitBake: syntax of the
// recipes, the recipe's settings, that the recipe installs exactly what
// configs/ holds (at its SRCREV too) and creates the users of the sysusers
// file, that it builds with the flags of scripts/device-buildflags (here
// and at SRCREV) and recommends the kernel modules configs/ loads at boot,
// that medagent-go-mods.inc matches go.mod/go.sum at SRCREV, and that
// the wks layout, fstab, boot script and fw_env.config agree. make
// yocto-check runs BitBake on the layer (README.md).
package yoctolayer
