// Package yoctolayer holds no code: it is the home of the Yocto layer
// meta-medagent (recipes, systemd units, the A/B wic layout and the U-Boot
// boot script) and of the test that checks what can be checked without
// BitBake: BitBake syntax of the recipes, LAYERSERIES_COMPAT, the files
// every SRC_URI file:// names, the systemd units as INI with the keys the
// product needs, the wic layout, the boot script (compiled with mkimage) and
// the installed configuration (parsed by the agent's own config package).
package yoctolayer
