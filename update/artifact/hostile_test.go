package artifact

import (
	"bytes"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"medagent/update/internal/peakrss"
)

// hostileRSSLimit is the bound for the peak RSS of an install.
const hostileRSSLimit = 32 << 20

// withDictByte rewrites the LZMA2 dictionary byte of the first block of an
// xz stream written by ulikunitz/xz (block header without sizes) and fixes
// the header's CRC32, as an attacker would.
func withDictByte(tb testing.TB, stream []byte, dict byte) []byte {
	tb.Helper()
	b := bytes.Clone(stream)
	if b[12] != 2 || b[13] != 0 || b[14] != 0x21 {
		tb.Fatalf("unexpected block header % x", b[12:24])
	}
	b[16] = dict
	binary.LittleEndian.PutUint32(b[20:], crc32.ChecksumIEEE(b[12:20]))
	return b
}

func gzipOf(tb testing.TB, b []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// TestHostileArtifactsBoundedMemory reads hostile artifacts, each made
// from a genuine signed one by swapping its data member (the signed
// header stays valid), in a child process and checks that each is refused
// for the right reason with a peak RSS within 32 MiB; a genuine xz
// artifact with the largest allowed window reads within the same bound.
func TestHostileArtifactsBoundedMemory(t *testing.T) {
	k := newGoKeys(t)
	dir := t.TempDir()
	der, err := x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pub := filepath.Join(dir, "pub.pem")
	os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600)

	img := append(testImage(4<<20, 21), make([]byte, 60<<20)...) // 64 MiB, mostly zeros
	genuineXZ := simpleArt(CompressionXZ, img[:4<<20], k.signRSA).build(t)
	tarBytes := tarOf(t, []member{{name: "rootfs.img", data: img[:4<<20]}})

	// A second xz stream declaring a 4 GiB dictionary continues the file.
	bomb := append(xzBytes(t, tarBytes[:1<<20], 1<<20, 0, xz.CRC64),
		withDictByte(t, xzBytes(t, make([]byte, len(tarBytes)-1<<20+64<<20), 1<<20, 0, xz.CRC64), 40)...)
	// gzip members of zeros after the genuine tar.
	gz := gzipOf(t, tarBytes)
	zeros := gzipOf(t, make([]byte, 8<<20))
	for range 32 {
		gz = append(gz, zeros...)
	}
	// A zstd frame declaring a 256 MiB window.
	var zbuf bytes.Buffer
	zw, err := zstd.NewWriter(&zbuf, zstd.WithWindowSize(256<<20), zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(make([]byte, 16<<20))
	zw.Close()

	genuineBig := simpleArt(CompressionXZ, img[:24<<20], k.signRSA)
	for _, tc := range []struct {
		name string
		art  []byte
		want string // "" means it must read
	}{
		{"multi-stream xz bomb", replaceData(t, genuineXZ, "data/0000.tar.xz", bomb), "compression window larger than allowed"},
		{"gzip members of zeros", replaceData(t, simpleArt(CompressionGzip, img[:4<<20], k.signRSA).build(t), "data/0000.tar.gz", gz), "malformed artifact"},
		{"zstd 256 MiB window", replaceData(t, simpleArt(CompressionZstd, img[:4<<20], k.signRSA).build(t), "data/0000.tar.zst", zbuf.Bytes()), "compression window larger than allowed"},
		// A second zstd frame, after the genuine one, declaring 256 MiB.
		{"zstd second frame with 256 MiB window", func() []byte {
			art := simpleArt(CompressionZstd, img[:4<<20], k.signRSA).build(t)
			first := memberAt(t, art, "data/0000.tar.zst").data
			return replaceData(t, art, "data/0000.tar.zst", append(bytes.Clone(first), zbuf.Bytes()...))
		}(), "compression window larger than allowed"},
		// A zstd skippable frame of 16 MiB after the genuine frame: skipped
		// by the decoder without holding it.
		{"zstd skippable frame of 16 MiB", func() []byte {
			art := simpleArt(CompressionZstd, img[:4<<20], k.signRSA).build(t)
			first := memberAt(t, art, "data/0000.tar.zst").data
			skip := binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, 0x184D2A50), 16<<20)
			return replaceData(t, art, "data/0000.tar.zst", append(append(bytes.Clone(first), skip...), make([]byte, 16<<20)...))
		}(), ""},
		{"genuine xz, 8 MiB dictionary", buildWithDict(t, genuineBig, 8<<20), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			art := filepath.Join(dir, "art.mender")
			if err := os.WriteFile(art, tc.art, 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "ARTIFACT_RSS_FILE="+art, "ARTIFACT_RSS_KEY="+pub)
			out, err := cmd.CombinedOutput()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("genuine artifact refused: %v\n%s", err, out)
			case tc.want != "" && err == nil:
				t.Fatal("hostile artifact read without error")
			case tc.want != "" && !strings.Contains(string(out), tc.want):
				t.Fatalf("refused with %q, want %q", out, tc.want)
			}
			peak, err := peakrss.Parse(out)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("peak RSS %.1f MiB (%s)", float64(peak)/(1<<20), strings.TrimSpace(string(out)))
			if peak > hostileRSSLimit {
				t.Errorf("peak RSS %d bytes, limit %d", peak, hostileRSSLimit)
			}
		})
	}
}

// replaceData swaps the named data member of a built artifact for data.
func replaceData(tb testing.TB, art []byte, name string, data []byte) []byte {
	tb.Helper()
	ms := members(tb, art)
	found := false
	for i := range ms {
		if ms[i].name == name {
			ms[i].data, found = data, true
		}
	}
	if !found {
		tb.Fatalf("no member %s", name)
	}
	return writeTar(tb, ms)
}

// buildWithDict builds a (genuine) xz artifact whose data member uses the
// given dictionary size.
func buildWithDict(tb testing.TB, a goArt, dict int) []byte {
	tb.Helper()
	art := a.build(tb)
	return replaceData(tb, art, "data/0000.tar.xz", xzBytes(tb, tarOf(tb, a.payloads[0]), dict, 0, xz.CRC64))
}
