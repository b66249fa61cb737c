package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"medagent/control"
	"medagent/internal/cmdline"
)

func certsCmd() *cmdline.Command {
	return &cmdline.Command{
		Name:    "certs",
		Summary: "show the device certificate and CA",
		Subs: []*cmdline.Command{{
			Name:    "show",
			Summary: "show the device certificate and the broker CA",
			Help: `Shows the device certificate (subject, issuer, serial, not-after, days
left) and the broker CA, as the running agent uses them; with --cert,
reads the files directly (no agent needed). Keys are never read.`,
			Examples: []string{
				"medagent certs show",
				"medagent certs show --cert /etc/medagent/pki/device.pem --ca /etc/medagent/pki/broker-ca.pem",
			},
			Flags: func(fs *flag.FlagSet) cmdline.Run {
				o := techFlags(fs)
				certFile := fs.String("cert", "", "read this device certificate `FILE` instead of asking the agent")
				caFile := fs.String("ca", "", "with --cert: the CA certificate `FILE`")
				return func(ctx context.Context, e env, args []string) error {
					if len(args) != 0 {
						return usagef("takes no arguments")
					}
					return certsShow(ctx, e, o, *certFile, *caFile)
				}
			},
		}},
	}
}

func certsShow(ctx context.Context, e env, o *techOpts, certFile, caFile string) error {
	var c control.Certs
	if certFile != "" {
		c = control.LoadCerts(certFile, caFile, time.Now())
	} else if err := o.call(ctx, control.Request{Cmd: control.CmdCerts}, &c); err != nil {
		return err
	}
	if o.json {
		if err := printJSON(e.Stdout, c); err != nil {
			return err
		}
	} else {
		if c.Device != nil {
			linef(e.Stdout, "device certificate")
			printCert(e.Stdout, *c.Device)
		}
		for _, ca := range c.CA {
			linef(e.Stdout, "CA")
			printCert(e.Stdout, ca)
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
