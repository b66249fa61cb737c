// Command medagent is the device agent of a bedside medical device.
// Everything it does lives in packages; this is only the entry point.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"medagent/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
