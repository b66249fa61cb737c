package artifact

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/ulikunitz/xz"
)

func TestXZDictionaryLimit(t *testing.T) {
	for _, tc := range []struct {
		dict int
		ok   bool
	}{{1 << 20, true}, {MaxXZDict, true}, {128 << 20, false}} {
		var buf bytes.Buffer
		w, err := xz.WriterConfig{DictCap: tc.dict}.NewWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("some data"))
		w.Close()
		_, err = decompress(CompressionXZ, &buf)
		if tc.ok && err != nil || !tc.ok && !errors.Is(err, ErrFormat) {
			t.Errorf("dict %d: %v", tc.dict, err)
		}
	}
}

// TestXZDictionaryOfMenderArtifact pins the dictionary mender-artifact
// 3.9 uses for "lzma", which the reader must accept.
func TestXZDictionaryOfMenderArtifact(t *testing.T) {
	f := getFixture(t)
	b, err := os.ReadFile(f.arts["rootfs-lzma-ec"])
	if err != nil {
		t.Fatal(err)
	}
	d := memberAt(t, b, "data/0000.tar.xz").data
	dict, ok := xzFirstDict(d[12:])
	if !ok || dict != 64<<20 {
		t.Errorf("dictionary %d (%v), want 64 MiB", dict, ok)
	}
}
