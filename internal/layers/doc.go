// Package layers holds the import rules that keep medagent's layering,
// checked by its test against what `go list` says the packages import
// (like tailscale's deps_test.go):
//
//   - the device binary (cmd/medagent) links no simulator (sensors/sim,
//     the chip simulators, sensors/simrig, simpin, acquire/simbench), no
//     pseudo-terminal (github.com/creack/pty), no demo broker, no test
//     helper (…test packages, package testing) and no devtools or bench
//     code, on every platform it is built for; the bench build
//     (cmd/medagent-sim) links them, so the rule can see them;
//   - hal imports no sensor package: parts take buses, buses know no part;
//   - the sensors root package does no I/O, so the edge stage may use its
//     types;
//   - the edge stage (every edge package but the offline tools replay and
//     ec57, which read recorded files) imports no I/O package (os, net,
//     syscall, files, logging), and every medagent package it links obeys
//     the same;
//   - go.mod and go.sum are tidy (`go mod tidy -diff` changes nothing).
package layers
