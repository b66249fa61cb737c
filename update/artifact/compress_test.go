package artifact

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/ulikunitz/xz"
)

// xzBytes compresses b with the given dictionary, block size and check.
func xzBytes(tb testing.TB, b []byte, dict, block int, check byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	c := xz.WriterConfig{DictCap: dict, BlockSize: int64(block), CheckSum: check}
	w, err := c.NewWriter(&buf)
	if err != nil {
		tb.Fatal(err)
	}
	w.Write(b)
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func readXZ(b []byte, window int64) ([]byte, error) {
	return readXZMode(b, window, true)
}

func readXZMode(b []byte, window int64, strict bool) ([]byte, error) {
	r, err := decompress(CompressionXZ, bytes.NewReader(b), window, strict)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

// TestXZMatchesReferenceDecoder decodes what ulikunitz/xz writes (several
// streams, stream padding, many blocks, every check type) and compares
// with its own reader.
func TestXZMatchesReferenceDecoder(t *testing.T) {
	data := append(testImage(300<<10, 3), bytes.Repeat([]byte("bedside "), 40000)...)
	for _, tc := range []struct {
		name  string
		input []byte
	}{
		{"one block crc64", xzBytes(t, data, 1<<20, 0, xz.CRC64)},
		{"many blocks crc32", xzBytes(t, data, 1<<20, 64<<10, xz.CRC32)},
		{"sha256", xzBytes(t, data, 1<<20, 0, xz.SHA256)},
		{"no check", xzBytes(t, data, 1<<20, 0, xz.None)},
		{"two streams and padding", append(append(xzBytes(t, data[:1000], 1<<20, 0, xz.CRC64), 0, 0, 0, 0), xzBytes(t, data[1000:], 1<<20, 0, xz.CRC32)...)},
		{"empty input stream", xzBytes(t, nil, 1<<20, 0, xz.CRC64)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref, err := xz.NewReader(bytes.NewReader(tc.input))
			if err != nil {
				t.Fatal(err)
			}
			want, err := io.ReadAll(ref)
			if err != nil {
				t.Fatal(err)
			}
			got, err := readXZ(tc.input, DefaultMaxWindow)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("decoded %d bytes, reference %d, or content differs", len(got), len(want))
			}
		})
	}
}

func TestXZRefusesCorruption(t *testing.T) {
	good := xzBytes(t, testImage(100<<10, 4), 1<<20, 32<<10, xz.CRC64)
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 0x40
		return b
	}
	for _, tc := range []struct {
		name  string
		input []byte
		want  error
	}{
		{"empty", nil, ErrTruncated},
		{"truncated", good[:len(good)-20], ErrTruncated},
		{"bad magic", flip(1), ErrFormat},
		{"stream flags", flip(7), ErrFormat},
		{"block header", flip(13), ErrFormat},
		{"data", flip(len(good) / 2), ErrFormat},
		{"footer", flip(len(good) - 3), ErrFormat},
		{"padding not multiple of 4", append(bytes.Clone(good), 0, 0), ErrFormat},
		{"garbage after stream", append(bytes.Clone(good), 1, 2, 3, 4), ErrFormat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readXZ(tc.input, DefaultMaxWindow)
			if !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// TestXZWindowBound: strict (payloads) refuses a block that declares a
// dictionary above the bound; lenient (header) decodes it with the bounded
// window while it refers back no further, and fails with ErrWindow when it
// needs more.
func TestXZWindowBound(t *testing.T) {
	small := testImage(200<<10, 5)
	big := xzBytes(t, small, 64<<20, 0, xz.CRC64)
	if _, err := readXZ(big, 8<<20); !errors.Is(err, ErrWindow) {
		t.Errorf("strict, 64 MiB dictionary, 8 MiB bound: got %v, want ErrWindow", err)
	}
	if got, err := readXZ(big, 64<<20); err != nil || !bytes.Equal(got, small) {
		t.Errorf("strict, 64 MiB dictionary, 64 MiB bound: %v", err)
	}
	if got, err := readXZMode(big, MinMaxWindow, false); err != nil || !bytes.Equal(got, small) {
		t.Errorf("lenient, 64 MiB dictionary, 200 KiB of data, 1 MiB window: %v", err)
	}
	// A 3 MiB random block repeated: the copy refers back 3 MiB.
	r := testImage(3<<20, 6)
	far := xzBytes(t, append(bytes.Clone(r), r...), 8<<20, 0, xz.CRC64)
	if _, err := readXZMode(far, 2<<20, false); !errors.Is(err, ErrWindow) {
		t.Errorf("lenient, match 3 MiB back, 2 MiB window: got %v, want ErrWindow", err)
	}
	if got, err := readXZMode(far, 4<<20, false); err != nil || len(got) != 6<<20 {
		t.Errorf("lenient, match 3 MiB back, 4 MiB window: %d bytes, %v", len(got), err)
	}
}

// TestXZEveryStreamChecked: the second stream of a member is decoded under
// the same bound as the first (the old reader only looked at the first).
func TestXZEveryStreamChecked(t *testing.T) {
	first := xzBytes(t, testImage(1<<20, 8), 1<<20, 0, xz.CRC64)
	r := testImage(3<<20, 7)
	second := xzBytes(t, append(bytes.Clone(r), r...), 64<<20, 0, xz.CRC64)
	for _, strict := range []bool{true, false} {
		if _, err := readXZMode(append(first, second...), 2<<20, strict); !errors.Is(err, ErrWindow) {
			t.Errorf("strict %v: got %v, want ErrWindow", strict, err)
		}
	}
}

// TestXZDictionaryOfMenderArtifact: mender-artifact 3.9 writes "lzma" with
// a 64 MiB dictionary (header and payload). The default 8 MiB bound refuses
// the payload with ErrWindow; with MaxWindow 64 MiB it is read.
func TestXZDictionaryOfMenderArtifact(t *testing.T) {
	f := getFixture(t)
	b, err := os.ReadFile(f.arts["rootfs-lzma-ec"])
	if err != nil {
		t.Fatal(err)
	}
	d := memberAt(t, b, "data/0000.tar.xz").data
	if dict := d[12+4] & 0x3f; dict != 28 { // 28 encodes 2<<(28/2+11) = 64 MiB
		t.Errorf("dictionary byte %d, want 28 (64 MiB)", dict)
	}
	_, _, err = readAll(b, Options{Keys: f.ecKeys, DeviceType: "bedside-a"})
	if !errors.Is(err, ErrWindow) {
		t.Fatalf("default bound: got %v, want ErrWindow", err)
	}
	// The refusal says what the artifact declares, that mender-artifact's
	// lzma always does, and both ways out: rebuild it with gzip (or none),
	// the compressions mender-artifact 3.9 has besides lzma, or raise the
	// bound on a device with the RAM.
	for _, want := range []string{"declares a 64MiB dictionary", "above the 8MiB window bound",
		"--compression lzma always with a 64 MiB dictionary", "mender-artifact write rootfs-image ... --compression gzip",
		"--compression none", "update.max_window: 67108864", "--max-window-mib 64"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not say %q", err, want)
		}
	}
	if _, files, err := readAll(b, Options{Keys: f.ecKeys, DeviceType: "bedside-a", MaxWindow: 64 << 20}); err != nil || !bytes.Equal(files["rootfs.ext4"], f.image) {
		t.Errorf("64 MiB bound: %v", err)
	}
}
