package artifact

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func FuzzReader(f *testing.F) {
	// ECDSA only: RSA key generation under the fuzzer's coverage
	// instrumentation takes minutes per worker. Each worker makes its own
	// key, so signed seeds verify only in the process that added them.
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	fuzzKeys := goKeys{ec: ec}
	pub := []crypto.PublicKey{&ec.PublicKey}
	payload := []byte("fuzz payload")
	// Seeds: the artifacts of the table tests.
	for _, comp := range []string{CompressionNone, CompressionGzip, CompressionXZ, CompressionZstd} {
		f.Add(simpleArt(comp, payload, fuzzKeys.signECRaw).build(f))
		f.Add(simpleArt(comp, payload, nil).build(f))
	}
	f.Add(simpleArt(CompressionNone, payload, fuzzKeys.signECRaw).build(f))
	f.Add(simpleArt(CompressionNone, payload, fuzzKeys.signECDER).build(f))
	two := simpleArt(CompressionNone, payload, nil)
	two.header = append(two.header[:1], member{name: "scripts/ArtifactInstall_Enter_00", data: []byte("#!/bin/sh\n")}, two.header[1])
	f.Add(two.build(f))
	// Unsigned seeds from mender-artifact itself (no key generation, so
	// every fuzz worker makes them quickly).
	needTool(f, "mender-artifact", "mender-artifact")
	dir := f.TempDir()
	img := filepath.Join(dir, "img")
	script := filepath.Join(dir, "ArtifactInstall_Enter_00")
	os.WriteFile(img, testImage(3000, 5), 0o600)
	os.WriteFile(script, []byte("#!/bin/sh\nexit 0\n"), 0o600)
	for i, args := range [][]string{
		{"write", "module-image", "-T", "ecg-firmware", "--compression", "gzip", "-N", "rel-0", "-d", "k:v"},
		{"write", "rootfs-image", "--compression", "lzma", "--no-progress"},
		{"write", "rootfs-image", "--compression", "none", "--no-progress", "-s", script},
	} {
		out := filepath.Join(dir, fmt.Sprintf("%d.mender", i))
		run(f, "mender-artifact", append(args, "-n", "seed", "-t", "bedside-a", "-f", img, "-o", out)...)
		b, err := os.ReadFile(out)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		for _, opt := range []Options{
			{AllowUnsigned: true, SkipCompatibility: true},
			{Keys: pub, DeviceType: "bedside-a"},
		} {
			r, err := NewReader(bytes.NewReader(data), opt)
			if err != nil {
				if r != nil {
					t.Fatal("reader returned with an error")
				}
				continue
			}
			h := r.Header()
			if h.Name == "" || len(h.Payloads) == 0 || len(h.Payloads) > MaxPayloads {
				t.Fatalf("accepted header %+v", h)
			}
			if len(opt.Keys) > 0 && !h.Verified {
				t.Fatal("accepted unverified with keys")
			}
			for {
				pf, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					break
				}
				n, err := io.Copy(io.Discard, pf)
				if err == nil && n != pf.Size {
					t.Fatalf("file %q: %d bytes, header says %d", pf.Name, n, pf.Size)
				}
				if err != nil && !errors.Is(err, ErrChecksum) && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrFormat) {
					t.Fatalf("payload error %v wraps no sentinel", err)
				}
			}
		}
	})
}
