package provision

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"os"

	"medagent/internal/cmdline"
	"medagent/internal/durable"
	"medagent/trust/identity"
)

type multi []string

func (m *multi) String() string     { return fmt.Sprint(*m) }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

// keyFlags are the device key flags both provisioning steps take.
type keyFlags struct {
	key, tpm string
	handle   uint
}

func defineKeyFlags(fs *flag.FlagSet) *keyFlags {
	k := &keyFlags{}
	fs.StringVar(&k.key, "key", "", "device key `FILE` (PKCS#8 PEM, 0600); csr creates it if absent")
	fs.StringVar(&k.tpm, "tpm", "", "TPM `DEVICE` or simulator (/dev/tpmrm0, unix:PATH)")
	fs.UintVar(&k.handle, "tpm-handle", uint(identity.DefaultHandle), "persistent `HANDLE` of the device key in the TPM")
	return k
}

func (k *keyFlags) check() error {
	if (k.key == "") == (k.tpm == "") {
		return cmdline.Usagef("give exactly one of --key and --tpm")
	}
	return nil
}

// Cmd is "medagent provision csr|install", the factory's two steps.
func Cmd() *cmdline.Command {
	return &cmdline.Command{
		Name:    "provision",
		Summary: "factory provisioning: make the device key and CSR, install the certificate",
		Help: `The factory's two steps: csr makes the device key (in the TPM, or a key
file) and a certificate signing request for the device serial; install
checks the certificate chain the factory CA returned against the
manufacturer root, the device key and the CRLs, and installs it.`,
		Subs: []*cmdline.Command{{
			Name:    "csr",
			Usage:   "--key FILE|--tpm DEVICE --serial SERIAL -o FILE",
			Summary: "make the device key if absent and write a CSR for the serial",
			Examples: []string{
				"medagent provision csr --tpm /dev/tpmrm0 --serial MA-0042 -o MA-0042.csr",
				"medagent provision csr --key /etc/medagent/pki/device.key --serial MA-0042 -o MA-0042.csr",
			},
			Flags: func(fs *flag.FlagSet) cmdline.Run {
				k := defineKeyFlags(fs)
				serial := fs.String("serial", "", "device `SERIAL` (required)")
				out := fs.String("o", "", "output CSR `FILE` (required)")
				return func(ctx context.Context, io cmdline.IO, args []string) error {
					if err := k.check(); err != nil {
						return err
					}
					if *out == "" || *serial == "" || len(args) != 0 {
						return cmdline.Usagef("needs --serial and -o, and no arguments")
					}
					return writeCSR(io.Stdout, k, *serial, *out)
				}
			},
		}, {
			Name:    "install",
			Usage:   "--root FILE [--crl FILE]... --key FILE|--tpm DEVICE [--serial SERIAL] -o FILE",
			Args:    "CHAIN.pem",
			Summary: "check the returned certificate chain and install it",
			Examples: []string{
				"medagent provision install --root root.pem --tpm /dev/tpmrm0 -o /etc/medagent/pki/device.pem chain.pem",
			},
			Flags: func(fs *flag.FlagSet) cmdline.Run {
				k := defineKeyFlags(fs)
				serial := fs.String("serial", "", "expected device `SERIAL` (optional)")
				out := fs.String("o", "", "output certificate `FILE` (required)")
				root := fs.String("root", "", "manufacturer root certificate `FILE` (PEM, required)")
				var crls multi
				fs.Var(&crls, "crl", "CRL `FILE` (DER or PEM), repeatable")
				return func(ctx context.Context, io cmdline.IO, args []string) error {
					if err := k.check(); err != nil {
						return err
					}
					if *out == "" || *root == "" || len(args) != 1 {
						return cmdline.Usagef("needs --root, -o and one CHAIN.pem")
					}
					return install(io.Stdout, *root, crls, k.key, k.tpm, uint32(k.handle), *serial, *out, args[0])
				}
			},
		}},
	}
}

func writeCSR(stdout io.Writer, k *keyFlags, serial, out string) error {
	id, err := identity.Open(identity.Options{TPM: k.tpm, Handle: uint32(k.handle), KeyFile: k.key})
	if err != nil {
		return err
	}
	defer id.Close()
	csr, err := CSR(id, serial)
	if err != nil {
		return err
	}
	if err := durable.WriteFile(out, csr, 0o644); err != nil {
		return fmt.Errorf("provision: %w", err)
	}
	fmt.Fprintf(stdout, "wrote CSR for %s (%s key) to %s\n", serial, id.Backend, out)
	return nil
}

func install(stdout io.Writer, rootFile string, crlFiles []string, key, tpm string, handle uint32, serial, out, chainFile string) error {
	o := Options{Serial: serial, CertFile: out}
	var err error
	if o.Root, err = ReadRoot(rootFile); err != nil {
		return err
	}
	for _, f := range crlFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("provision: CRL: %w", err)
		}
		if blk, _ := pem.Decode(b); blk != nil {
			b = blk.Bytes
		}
		crl, err := x509.ParseRevocationList(b)
		if err != nil {
			return fmt.Errorf("provision: CRL %s: %w", f, err)
		}
		o.CRLs = append(o.CRLs, crl)
	}
	var pub crypto.PublicKey
	if key != "" {
		k, err := identity.LoadKeyFile(key) // never create a key here
		if err != nil {
			return err
		}
		pub = k.Public()
	} else {
		id, err := identity.Open(identity.Options{TPM: tpm, Handle: handle})
		if err != nil {
			return err
		}
		pub = id.Public()
		id.Close()
	}
	o.Public = pub
	chain, err := os.ReadFile(chainFile)
	if err != nil {
		return fmt.Errorf("provision: chain: %w", err)
	}
	leaf, err := Install(chain, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "installed certificate for %s, valid until %s, to %s\n", leaf.Subject.CommonName, leaf.NotAfter.UTC().Format("2006-01-02"), out)
	return nil
}
