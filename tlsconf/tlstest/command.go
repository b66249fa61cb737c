package tlstest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
)

// Command writes a development PKI for the demo:
//
//	dev-pki -dir DIR -device ID
//
// It refuses a directory that already holds a CA, so a PKI in use is not
// silently replaced.
func Command(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	fs := flag.NewFlagSet("dev-pki", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "directory to create (mode 0700)")
	device := fs.String("device", "", "device id, the common name of the device certificate")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" || *device == "" || fs.NArg() != 0 {
		fs.Usage()
		return fmt.Errorf("tlstest: dev-pki needs -dir and -device: %w", flag.ErrHelp)
	}
	if ok, err := exists(filepath.Join(*dir, CAFile)); err != nil || ok {
		return errors.Join(fmt.Errorf("tlstest: %s already holds a PKI; remove it first", *dir), err)
	}
	p, err := WritePKI(*dir, *device)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote development PKI for %s to %s:\n", p.DeviceID, p.Dir)
	for _, f := range []string{CAFile, BrokerCertFile, BrokerKeyFile, DeviceCertFile, DeviceKeyFile, MonitorCertFile, MonitorKeyFile} {
		fmt.Fprintf(stdout, "  %s\n", filepath.Join(p.Dir, f))
	}
	return nil
}
