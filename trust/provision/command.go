package provision

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"medagent/trust/identity"
	"medagent/trust/internal/durable"
)

const usage = `usage:
  provision csr (--key FILE | --tpm PATH) --serial S -o CSR.pem
  provision install --root ROOT.pem [--crl FILE]... (--key FILE | --tpm PATH) [--serial S] -o CERT.pem CHAIN.pem`

type multi []string

func (m *multi) String() string     { return fmt.Sprint(*m) }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

// Command runs "medagent provision csr|install".
func Command(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return fmt.Errorf("provision: %w", flag.ErrHelp)
	}
	fs := flag.NewFlagSet("provision "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	key := fs.String("key", "", "device key file (PKCS#8 PEM, 0600); created by csr if absent")
	tpm := fs.String("tpm", "", "TPM device or simulator (/dev/tpmrm0, unix:PATH)")
	handle := fs.Uint("tpm-handle", uint(identity.DefaultHandle), "persistent handle of the device key")
	serial := fs.String("serial", "", "device serial")
	out := fs.String("o", "", "output file")
	root := fs.String("root", "", "manufacturer root certificate (PEM)")
	var crls multi
	fs.Var(&crls, "crl", "CRL file (DER or PEM), repeatable")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("provision: %w", err)
	}
	if (*key == "") == (*tpm == "") {
		return errors.New("provision: give exactly one of --key and --tpm")
	}
	if *out == "" {
		return errors.New("provision: -o is required")
	}
	switch args[0] {
	case "csr":
		if fs.NArg() != 0 || *serial == "" {
			return errors.New("provision csr: --serial is required and no arguments are taken")
		}
		id, err := identity.Open(identity.Options{TPM: *tpm, Handle: uint32(*handle), KeyFile: *key})
		if err != nil {
			return err
		}
		defer id.Close()
		csr, err := CSR(id, *serial)
		if err != nil {
			return err
		}
		if err := durable.WriteFile(*out, csr, 0o644); err != nil {
			return fmt.Errorf("provision: %w", err)
		}
		fmt.Fprintf(stdout, "wrote CSR for %s (%s key) to %s\n", *serial, id.Backend, *out)
		return nil
	case "install":
		if fs.NArg() != 1 || *root == "" {
			return errors.New("provision install: --root and one CHAIN.pem are required")
		}
		return install(stdout, *root, crls, *key, *tpm, uint32(*handle), *serial, *out, fs.Arg(0))
	default:
		return fmt.Errorf("provision: unknown subcommand %q\n%s", args[0], usage)
	}
}

func install(stdout io.Writer, rootFile string, crlFiles []string, key, tpm string, handle uint32, serial, out, chainFile string) error {
	o := Options{Serial: serial, CertFile: out}
	rb, err := os.ReadFile(rootFile)
	if err != nil {
		return fmt.Errorf("provision: root: %w", err)
	}
	roots, err := ParseChain(rb)
	if err != nil || len(roots) != 1 {
		return fmt.Errorf("provision: root file %s must hold one PEM certificate (%v)", rootFile, err)
	}
	o.Root = roots[0]
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
