// Package e2e holds end-to-end tests of the medagent binary: built as in
// production, run as a process against a real mosquitto, killed, restarted,
// and run as an arm64 binary under qemu-aarch64-static.
package e2e
