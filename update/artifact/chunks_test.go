package artifact

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"medagent/internal/cmdline"
)

// chunkedArt is simpleArt with the chunk list of payload in its meta-data.
func chunkedArt(tb testing.TB, comp string, payload []byte, chunk int64, sign func([]byte) []byte) goArt {
	tb.Helper()
	c, err := MakeChunks(bytes.NewReader(payload), "rootfs.img", chunk)
	if err != nil {
		tb.Fatal(err)
	}
	meta, err := c.MetaData([]byte(`{"model":"bedside-7"}`))
	if err != nil {
		tb.Fatal(err)
	}
	a := simpleArt(comp, payload, sign)
	a.header[2].data = meta
	return a
}

// swapData replaces the data member of a built artifact with one built
// from files (the signed manifest and header stay as they were).
func swapData(tb testing.TB, art []byte, comp string, files []member) []byte {
	tb.Helper()
	ms := members(tb, art)
	d, ext := compressBytes(tb, comp, tarOf(tb, files))
	for i := range ms {
		if strings.HasPrefix(ms[i].name, "data/0000") {
			ms[i] = member{name: "data/0000" + ext, data: d}
		}
	}
	return writeTar(tb, ms)
}

// readCounting reads every payload file and returns how many bytes the
// reader handed out before it stopped, with the error.
func readCounting(src []byte, opt Options) (int64, error) {
	r, err := NewReader(bytes.NewReader(src), opt)
	if err != nil {
		return 0, err
	}
	var n int64
	for {
		pf, err := r.Next()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		m, err := io.Copy(io.Discard, pf)
		n += m
		if err != nil {
			return n, err
		}
	}
}

// TestChunkVerifiedBeforeHandedOut: a byte changed at 60 % of a 64 MiB
// image (the signed header untouched) stops the read at its chunk; every
// byte handed out before belongs to verified chunks and none of that
// chunk or after it is handed out.
func TestChunkVerifiedBeforeHandedOut(t *testing.T) {
	k := newGoKeys(t)
	img := testImage(64<<20, 11)
	for _, comp := range []string{CompressionNone, CompressionGzip} {
		t.Run(comp, func(t *testing.T) {
			art := chunkedArt(t, comp, img, DefaultChunkSize, k.signRSA).build(t)
			bad := bytes.Clone(img)
			at := int64(len(img)) * 60 / 100
			bad[at] ^= 1
			swapped := swapData(t, art, comp, []member{{name: "rootfs.img", data: bad}})
			n, err := readCounting(swapped, Options{Keys: k.public(), DeviceType: "bedside-a"})
			var ce *ChunkError
			if !errors.As(err, &ce) || !errors.Is(err, ErrChecksum) {
				t.Fatalf("got %v, want a *ChunkError wrapping ErrChecksum", err)
			}
			wantChunk := int(at / DefaultChunkSize)
			if ce.Index != wantChunk || ce.Offset != int64(wantChunk)*DefaultChunkSize || ce.Chunks != 64 {
				t.Errorf("chunk error %+v, want chunk %d of 64", ce, wantChunk)
			}
			if n != int64(wantChunk)*DefaultChunkSize {
				t.Errorf("handed out %d bytes, want exactly the %d verified chunks before it (%d bytes)", n, wantChunk, int64(wantChunk)*DefaultChunkSize)
			}
			// The genuine artifact reads whole.
			if n, err := readCounting(art, Options{Keys: k.public(), DeviceType: "bedside-a", RequireChunks: true}); err != nil || n != int64(len(img)) {
				t.Errorf("genuine: %d bytes, %v", n, err)
			}
		})
	}
}

func TestChunkListChecks(t *testing.T) {
	k := newGoKeys(t)
	img := testImage(300<<10+5, 12)
	opt := Options{Keys: k.public(), DeviceType: "bedside-a"}
	withMeta := func(meta string) []byte {
		a := simpleArt(CompressionNone, img, k.signRSA)
		a.header[2].data = []byte(meta)
		return a.build(t)
	}
	good, err := MakeChunks(bytes.NewReader(img), "rootfs.img", MinChunkSize)
	if err != nil {
		t.Fatal(err)
	}
	list := func(edit func(c *Chunks)) string {
		c := *good
		c.SHA256 = append([]string(nil), good.SHA256...)
		edit(&c)
		b, _ := json.Marshal(map[string]any{ChunkMetaKey: c})
		return string(b)
	}
	for _, tc := range []struct {
		name string
		art  []byte
		opt  Options
		want error
	}{
		{"no list, not required", simpleArt(CompressionNone, img, k.signRSA).build(t), opt, nil},
		{"no list, required", simpleArt(CompressionNone, img, k.signRSA).build(t), Options{Keys: k.public(), DeviceType: "bedside-a", RequireChunks: true}, ErrNoChunks},
		{"other meta-data only, required", withMeta(`{"model":"x"}`), Options{Keys: k.public(), DeviceType: "bedside-a", RequireChunks: true}, ErrNoChunks},
		{"small chunks", withMeta(list(func(*Chunks) {})), opt, nil},
		{"size differs from the file", withMeta(list(func(c *Chunks) { c.Size--; c.SHA256 = c.SHA256[:len(c.SHA256)] })), opt, ErrChecksum},
		{"wrong digest count", withMeta(list(func(c *Chunks) { c.SHA256 = c.SHA256[1:] })), opt, ErrFormat},
		{"bad hex", withMeta(list(func(c *Chunks) { c.SHA256[0] = strings.Repeat("x", 64) })), opt, ErrFormat},
		{"chunk too small", withMeta(list(func(c *Chunks) { c.ChunkSize = 1024 })), opt, ErrFormat},
		{"unknown version", withMeta(list(func(c *Chunks) { c.Version = 2 })), opt, ErrFormat},
		{"unknown field", withMeta(`{"medagent.chunks":{"version":1,"file":"rootfs.img","size":0,"chunk_size":65536,"sha256":[],"x":1}}`), opt, ErrFormat},
		{"file not in payload", withMeta(list(func(c *Chunks) { c.File = "other.img" })), opt, ErrMissing},
		{"path as file", withMeta(list(func(c *Chunks) { c.File = "a/rootfs.img" })), opt, ErrFormat},
		{"wrong digest", withMeta(list(func(c *Chunks) { c.SHA256[2] = strings.Repeat("0", 64) })), opt, ErrChecksum},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readCounting(tc.art, tc.opt)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// TestChunksWithMenderArtifact: the meta-data "medagent artifact chunks"
// prints, added by stock mender-artifact 3.9 (modify --meta-data on a
// rootfs-image, or write module-image -T rootfs-image -m), is signed and
// read; the reader then verifies every chunk.
func TestChunksWithMenderArtifact(t *testing.T) {
	f := getFixture(t)
	dir := t.TempDir()
	img := filepath.Join(dir, "rootfs.ext4")
	content := testImage(3<<20+77, 13)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(img, content, 0o600))
	var meta, stderr bytes.Buffer
	must(cmdline.Exec(context.Background(), ChunksCmd(), []string{"--chunk-size", "262144", img}, cmdline.IO{Stdout: &meta, Stderr: &stderr}))
	metaFile := filepath.Join(dir, "meta.json")
	must(os.WriteFile(metaFile, meta.Bytes(), 0o600))

	modified := filepath.Join(dir, "modified.mender")
	run(t, "mender-artifact", "write", "rootfs-image", "-n", "rel-chunks", "-t", "bedside-a", "-f", img, "-o", modified, "-k", f.rsaPriv, "--no-progress")
	run(t, "mender-artifact", "modify", modified, "--meta-data", metaFile, "-k", f.rsaPriv)
	module := filepath.Join(dir, "module.mender")
	run(t, "mender-artifact", "write", "module-image", "-T", "rootfs-image", "-n", "rel-chunks", "-t", "bedside-a", "-f", img, "-m", metaFile, "-o", module, "-k", f.rsaPriv)
	for _, art := range []string{modified, module} {
		t.Run(filepath.Base(art), func(t *testing.T) {
			b, err := os.ReadFile(art)
			must(err)
			r, err := NewReader(bytes.NewReader(b), Options{Keys: f.rsaKeys, DeviceType: "bedside-a", RequireChunks: true})
			must(err)
			pf, err := r.Next()
			must(err)
			if pf.Chunks == nil || pf.Chunks.Len() != 13 || pf.Chunks.ChunkSize != 262144 {
				t.Fatalf("chunk list %+v", pf.Chunks)
			}
			got, err := io.ReadAll(pf)
			must(err)
			if !bytes.Equal(got, content) {
				t.Error("content differs")
			}
			if _, err := r.Next(); err != io.EOF {
				t.Errorf("end: %v", err)
			}
		})
	}
}

func TestChunksCommandMerges(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "rootfs.ext4")
	os.WriteFile(img, testImage(100, 1), 0o600)
	base := filepath.Join(dir, "base.json")
	os.WriteFile(base, []byte(`{"model":"bedside-7"}`), 0o600)
	var out, errOut bytes.Buffer
	if err := cmdline.Exec(context.Background(), ChunksCmd(), []string{"--meta-data", base, "--name", "rootfs.img", img}, cmdline.IO{Stdout: &out, Stderr: &errOut}); err != nil {
		t.Fatal(err)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	c, err := parseChunks(out.Bytes())
	if err != nil || string(got["model"]) != `"bedside-7"` || c.File != "rootfs.img" || c.Size != 100 || c.Len() != 1 {
		t.Errorf("meta-data %s: %v", out.Bytes(), err)
	}
	if err := cmdline.Exec(context.Background(), ChunksCmd(), []string{"--chunk-size", "10", img}, cmdline.IO{Stdout: &out, Stderr: &errOut}); !errors.Is(err, cmdline.ErrUsage) {
		t.Error("chunk size 10 accepted")
	}
}

// TestTrustChunks: with TrustChunks a chunked file is checked once,
// against its chunk list (a tampered chunk still fails before it is
// handed out); a file without a list is still checked at its end.
func TestTrustChunks(t *testing.T) {
	k := newGoKeys(t)
	img := testImage(3<<20, 14)
	opt := Options{Keys: k.public(), DeviceType: "bedside-a", TrustChunks: true}
	art := chunkedArt(t, CompressionNone, img, DefaultChunkSize, k.signRSA).build(t)
	if n, err := readCounting(art, opt); err != nil || n != int64(len(img)) {
		t.Fatalf("genuine: %d, %v", n, err)
	}
	bad := bytes.Clone(img)
	bad[len(bad)-1] ^= 1
	var ce *ChunkError
	if n, err := readCounting(swapData(t, art, CompressionNone, []member{{name: "rootfs.img", data: bad}}), opt); !errors.As(err, &ce) || ce.Index != 2 || n != 2<<20 {
		t.Errorf("tampered last chunk: %d bytes, %v", n, err)
	}
	plain := simpleArt(CompressionNone, img, k.signRSA).build(t)
	if _, err := readCounting(swapData(t, plain, CompressionNone, []member{{name: "rootfs.img", data: bad}}), opt); !errors.Is(err, ErrChecksum) {
		t.Errorf("tampered file without a list: %v", err)
	}
}
