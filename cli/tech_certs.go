package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"medagent/control"
)

func runCerts(ctx context.Context, e *env, args []string) error {
	return sub(ctx, e, "certs", args, map[string]func(context.Context, *env, []string) error{
		"show": runCertsShow,
	})
}

func runCertsShow(ctx context.Context, e *env, args []string) error {
	var o techOpts
	fs := techFlags(e, "certs show", `certs show [--json] [--socket PATH] | certs show --cert FILE [--ca FILE]

Shows the device certificate (subject, issuer, serial, not-after, days
left) and the broker CA, as the running agent uses them; with --cert,
reads the files directly (no agent needed). Keys are never read.

Examples:
  medagent certs show
  medagent certs show --cert /etc/medagent/pki/device.pem --ca /etc/medagent/pki/broker-ca.pem`, &o)
	certFile := fs.String("cert", "", "read this device certificate `FILE` instead of asking the agent")
	caFile := fs.String("ca", "", "with --cert: the CA certificate `FILE`")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("certs show takes no arguments")
	}
	var c control.Certs
	if *certFile != "" {
		c = control.LoadCerts(*certFile, *caFile, time.Now())
	} else if err := o.call(ctx, control.Request{Cmd: control.CmdCerts}, &c); err != nil {
		return err
	}
	if o.json {
		if err := printJSON(e.stdout, c); err != nil {
			return err
		}
	} else {
		if c.Device != nil {
			linef(e.stdout, "device certificate")
			printCert(e.stdout, *c.Device)
		}
		for _, ca := range c.CA {
			linef(e.stdout, "CA")
			printCert(e.stdout, ca)
		}
	}
	if c.Error != "" {
		return fmt.Errorf("%s", c.Error)
	}
	return nil
}

func printCert(w io.Writer, c control.Cert) {
	linef(w, "  file       %s", c.File)
	linef(w, "  subject    %s", c.Subject)
	linef(w, "  issuer     %s", c.Issuer)
	linef(w, "  serial     %s", c.Serial)
	left := fmt.Sprintf("%d days left", c.DaysLeft)
	if c.DaysLeft < 0 {
		left = "EXPIRED"
	}
	linef(w, "  not after  %s (%s)", c.NotAfter.Format(time.RFC3339), left)
}
