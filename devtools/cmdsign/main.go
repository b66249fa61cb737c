// Command cmdsign signs a command for a device, as the back end does (see
// trust/command): go run ./devtools/cmdsign --key K.pem --key-id ID
// --device D --name reboot. Development and demo only.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"medagent/trust/command/cmdsign"
)

func main() {
	err := cmdsign.Command(context.Background(), os.Stdout, os.Stderr, os.Args[1:])
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "cmdsign:", err)
		os.Exit(1)
	}
}
