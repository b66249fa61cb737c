// Package uboottest simulates the boot side of a Mender-style A/B device:
// U-Boot with the bootcount feature and meta-mender's boot script, so the
// update engine can be tested across reboots and power cuts.
//
// On every boot (meta-mender semantics): if upgrade_available=1 then
// bootcount is incremented and saved; if it then exceeds bootlimit,
// altbootcmd runs: mender_boot_part switches to the other slot and
// upgrade_available is cleared. The board then boots mender_boot_part and
// writes "root=<device>" to the slot configuration's kernel command line
// file, which is how slot.Config.Active finds the running slot.
package uboottest
