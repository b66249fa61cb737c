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

	"github.com/ulikunitz/xz"
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
	for _, comp := range []string{CompressionNone, CompressionXZ} {
		f.Add(chunkedArt(f, comp, testImage(200<<10, 3), MinChunkSize, nil).build(f))
		f.Add(chunkedArt(f, comp, testImage(200<<10, 3), MinChunkSize, fuzzKeys.signECRaw).build(f))
	}
	for _, c := range hostileArtifacts(f, fuzzKeys.signECRaw) {
		if len(c.art) < 256<<10 {
			f.Add(c.art)
		}
	}
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
				if err != nil && !wrapsSentinel(err) {
					t.Fatalf("payload error %v wraps no sentinel", err)
				}
			}
		}
	})
}

func wrapsSentinel(err error) bool {
	for _, s := range []error{ErrChecksum, ErrTruncated, ErrFormat, ErrWindow, ErrTooLarge, ErrCompression, ErrMissing} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// FuzzXZ feeds the xz container reader; seeds are the table tests' inputs.
// It must never panic, never decode more than a small input can hold
// without an error, and classify every error.
func FuzzXZ(f *testing.F) {
	data := append(testImage(20<<10, 3), bytes.Repeat([]byte("bedside "), 4000)...)
	for _, check := range []byte{xz.None, xz.CRC32, xz.CRC64, xz.SHA256} {
		f.Add(xzBytes(f, data, 1<<20, 8<<10, check))
	}
	two := append(append(xzBytes(f, data[:1000], 1<<20, 0, xz.CRC64), 0, 0, 0, 0), xzBytes(f, data[1000:], 1<<20, 0, xz.CRC32)...)
	f.Add(two)
	f.Add(xzBytes(f, nil, 1<<20, 0, xz.CRC64))
	f.Add(withDictByte(f, xzBytes(f, data, 1<<20, 0, xz.CRC64), 28)) // declares 64 MiB
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, strict := range []bool{true, false} {
			r, err := decompress(CompressionXZ, bytes.NewReader(in), MinMaxWindow, strict)
			if err != nil {
				if !wrapsSentinel(err) {
					t.Fatalf("start error %v wraps no sentinel", err)
				}
				continue
			}
			_, err = io.Copy(io.Discard, io.LimitReader(r, 64<<20))
			if err != nil && !wrapsSentinel(err) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
		}
	})
}
