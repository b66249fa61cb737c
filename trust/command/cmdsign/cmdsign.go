// Package cmdsign is the back-end side of trust/command for operators and
// demos: "medagent cmd-sign" signs a command envelope.
package cmdsign

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
	"strings"
	"time"

	"medagent/trust/command"
	"medagent/trust/keyring"
)

// readSigner reads a private key in the PEM forms openssl and
// mender-artifact use: PKCS#8, PKCS#1 RSA or SEC1 EC.
func readSigner(path string) (crypto.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%s: no PEM block", path)
	}
	var k any
	switch blk.Type {
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(blk.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(blk.Bytes)
	default:
		return nil, fmt.Errorf("%s: PEM %q is not a private key", path, blk.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: %T cannot sign", path, k)
	}
	return s, nil
}

type argList map[string]string

func (a argList) String() string { return fmt.Sprint(map[string]string(a)) }
func (a argList) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want key=value, got %q", s)
	}
	a[k] = v
	return nil
}

// now is the clock of Command (a test seam).
var now = time.Now

// Command runs "medagent cmd-sign". It signs a command envelope with a PKCS#8 PEM key (ECDSA P-256 or
// Ed25519) and writes the JSON to stdout:
//
//	cmd-sign --key K.pem --key-id ID --device SERIAL --name reboot [--ttl 1h] [--arg k=v]...
func Command(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	fs := flag.NewFlagSet("cmd-sign", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyFile := fs.String("key", "", "command-signing private key (PKCS#8 PEM)")
	keyID := fs.String("key-id", "", "key id configured on the device")
	device := fs.String("device", "", "device serial")
	name := fs.String("name", "", "update, reboot, config or diagnostics")
	ttl := fs.Duration("ttl", time.Hour, "validity from now")
	updKey := fs.String("update-key", "", "for an update-key change (--arg keyring.set=update): a current update-signing private key (PEM: PKCS#8, PKCS#1 RSA or SEC1 EC, as mender-artifact uses) that signs the change as keyring.update_sig")
	a := argList{}
	fs.Var(a, "arg", "argument key=value, repeatable")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("cmd-sign: %w", err)
	}
	if *keyFile == "" || *keyID == "" || *device == "" || *name == "" || fs.NArg() != 0 {
		return errors.New("cmd-sign: --key, --key-id, --device and --name are required")
	}
	b, err := os.ReadFile(*keyFile)
	if err != nil {
		return fmt.Errorf("cmd-sign: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return fmt.Errorf("cmd-sign: %s: want a PEM \"PRIVATE KEY\" (PKCS#8)", *keyFile)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return fmt.Errorf("cmd-sign: %s: %w", *keyFile, err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return fmt.Errorf("cmd-sign: %T is not a signing key", k)
	}
	if *updKey != "" {
		us, err := readSigner(*updKey)
		if err != nil {
			return fmt.Errorf("cmd-sign: --update-key: %w", err)
		}
		sig, err := keyring.SignUpdateChange(a, us)
		if err != nil {
			return fmt.Errorf("cmd-sign: %w", err)
		}
		a[keyring.UpdateSigArg] = sig
	} else if a["keyring.set"] == keyring.UpdateSet {
		return errors.New("cmd-sign: an update-key change needs --update-key (a current update-signing key): a command key alone cannot change update keys")
	}
	t := now()
	e := &command.Envelope{V: command.Version, Device: *device, Name: *name, IssuedAt: t.Unix(), ExpiresAt: t.Add(*ttl).Unix(), Nonce: command.NewNonce()}
	if len(a) > 0 {
		e.Args = a
	}
	if err := command.Sign(e, *keyID, signer); err != nil {
		return err
	}
	// Refuse to emit what a device would refuse as malformed.
	if _, err := command.Decode(e.Marshal()); err != nil {
		return fmt.Errorf("cmd-sign: %w", err)
	}
	_, err = fmt.Fprintf(stdout, "%s\n", e.Marshal())
	return err
}
