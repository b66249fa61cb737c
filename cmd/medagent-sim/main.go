// Command medagent-sim is the agent of a bench build: the device binary's
// command line, with the simulators behind bus "sim" (a simulated patient
// on register-level chip simulators, package sensors/simrig) linked in.
// The demo, the benchmarks, the end-to-end tests and the QEMU bench image
// run it; a device runs cmd/medagent, which links no simulator.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"medagent/acquire/simbench"
	"medagent/cli"
)

func main() {
	cli.UseBench(simbench.New)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
