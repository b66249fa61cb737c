package artifact

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// goArt builds artifacts in Go for cases mender-artifact 3.9 cannot
// write (zstd, DER ECDSA signatures, broken headers).
type goArt struct {
	version  string
	header   []member   // header tar files, in order
	payloads [][]member // files of each data/NNNN
	comp     string
	sign     func(manifest []byte) []byte // nil: unsigned
	// edit may change the manifest text before signing.
	edit func(manifest string) string
}

func tarOf(tb testing.TB, files []member) []byte {
	tb.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range files {
		tw.WriteHeader(&tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.data)), Typeflag: tar.TypeReg})
		tw.Write(m.data)
	}
	tw.Close()
	return buf.Bytes()
}

func compressBytes(tb testing.TB, comp string, b []byte) ([]byte, string) {
	tb.Helper()
	var buf bytes.Buffer
	switch comp {
	case CompressionNone:
		return b, ".tar"
	case CompressionGzip:
		w := gzip.NewWriter(&buf)
		w.Write(b)
		w.Close()
		return buf.Bytes(), ".tar.gz"
	case CompressionXZ:
		w, err := xz.NewWriter(&buf)
		if err != nil {
			tb.Fatal(err)
		}
		w.Write(b)
		w.Close()
		return buf.Bytes(), ".tar.xz"
	case CompressionZstd:
		w, err := zstd.NewWriter(&buf)
		if err != nil {
			tb.Fatal(err)
		}
		w.Write(b)
		w.Close()
		return buf.Bytes(), ".tar.zst"
	}
	tb.Fatalf("compression %q", comp)
	return nil, ""
}

func (a goArt) build(tb testing.TB) []byte {
	tb.Helper()
	version := a.version
	if version == "" {
		version = `{"format":"mender","version":3}`
	}
	sums := map[string][32]byte{"version": sha256.Sum256([]byte(version))}
	hdr, ext := compressBytes(tb, a.comp, tarOf(tb, a.header))
	sums["header"+ext] = sha256.Sum256(hdr)
	var data []member
	for i, files := range a.payloads {
		for _, f := range files {
			sums[fmt.Sprintf("data/%04d/%s", i, f.name)] = sha256.Sum256(f.data)
		}
		d, ext := compressBytes(tb, a.comp, tarOf(tb, files))
		data = append(data, member{name: fmt.Sprintf("data/%04d%s", i, ext), data: d})
	}
	var names []string
	for n := range sums {
		names = append(names, n)
	}
	sort.Strings(names)
	var man strings.Builder
	for _, n := range names {
		s := sums[n]
		fmt.Fprintf(&man, "%x  %s\n", s[:], n)
	}
	manifest := man.String()
	if a.edit != nil {
		manifest = a.edit(manifest)
	}
	out := []member{{name: "version", data: []byte(version)}, {name: "manifest", data: []byte(manifest)}}
	if a.sign != nil {
		out = append(out, member{name: "manifest.sig", data: a.sign([]byte(manifest))})
	}
	out = append(out, member{name: "header" + ext, data: hdr})
	return writeTar(tb, append(out, data...))
}

// goKeys are keys generated in Go for goArt signatures.
type goKeys struct {
	rsa *rsa.PrivateKey
	ec  *ecdsa.PrivateKey
}

func newGoKeys(tb testing.TB) goKeys {
	tb.Helper()
	r, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	e, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return goKeys{r, e}
}

func (k goKeys) public() []crypto.PublicKey {
	return []crypto.PublicKey{&k.rsa.PublicKey, &k.ec.PublicKey}
}

func (k goKeys) signRSA(m []byte) []byte {
	d := sha256.Sum256(m)
	s, _ := rsa.SignPKCS1v15(rand.Reader, k.rsa, crypto.SHA256, d[:])
	return []byte(base64.StdEncoding.EncodeToString(s))
}

func (k goKeys) signECDER(m []byte) []byte {
	d := sha256.Sum256(m)
	s, _ := ecdsa.SignASN1(rand.Reader, k.ec, d[:])
	return []byte(base64.StdEncoding.EncodeToString(s))
}

func (k goKeys) signECRaw(m []byte) []byte {
	d := sha256.Sum256(m)
	r, s, _ := ecdsa.Sign(rand.Reader, k.ec, d[:])
	raw := make([]byte, 64)
	r.FillBytes(raw[:32])
	s.FillBytes(raw[32:])
	return []byte(base64.StdEncoding.EncodeToString(raw))
}

const (
	testHeaderInfo = `{"payloads":[{"type":"rootfs-image"}],"artifact_provides":{"artifact_name":"go-1"},"artifact_depends":{"device_type":["bedside-a"]}}`
	testTypeInfo   = `{"type":"rootfs-image","artifact_provides":{"rootfs-image.version":"go-1"},"clears_artifact_provides":["rootfs-image.*"]}`
)

// simpleArt is a one-payload rootfs artifact with the given compression.
func simpleArt(comp string, payload []byte, sign func([]byte) []byte) goArt {
	return goArt{
		comp: comp,
		sign: sign,
		header: []member{
			{name: "header-info", data: []byte(testHeaderInfo)},
			{name: "headers/0000/type-info", data: []byte(testTypeInfo)},
			{name: "headers/0000/meta-data", data: nil},
		},
		payloads: [][]member{{{name: "rootfs.img", data: payload}}},
	}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return fmt.Sprintf("%x", s[:])
}
