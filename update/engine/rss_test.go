package engine

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"hash/crc64"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ulikunitz/xz"

	"medagent/update/artifact"
	"medagent/update/internal/peakrss"
	"medagent/update/slot"
)

// installPeakLimit is the bound for the peak RSS of an install.
const installPeakLimit = 32 << 20

type rssSpec struct {
	Dir, EnvFile, Lock, Artifact, Pub string
	Slots                             slot.Config
}

// childRSS installs spec's artifact with the real verifier into the
// world's slot B and reports its peak RSS and the result.
func childRSS(spec string) int {
	var cs rssSpec
	if err := json.Unmarshal([]byte(spec), &cs); err != nil {
		return 3
	}
	base, _ := peakrss.Current()
	fmt.Printf("baseline RSS %.1f MiB\n", float64(base)/(1<<20))
	w := &world{t: &testing.T{}, dir: cs.Dir, slots: cs.Slots}
	env, err := openWorldEnv(cs.EnvFile, cs.Lock)
	if err != nil {
		return 4
	}
	w.env = env
	pub, err := os.ReadFile(cs.Pub)
	if err != nil {
		return 5
	}
	keys, err := artifact.ParsePublicKeys(pub)
	if err != nil {
		return 5
	}
	o := w.options()
	o.Env = env
	o.Open = Opener(Verification{Keys: keys, DeviceType: "bedside-v2"})
	o.FlushEvery = 0 // the agent's default write window, not the tests' small one
	e, err := New(o)
	if err != nil {
		return 6
	}
	f, err := os.Open(cs.Artifact)
	if err != nil {
		return 7
	}
	err = e.Install(context.Background(), f)
	peakrss.Report(os.Stdout)
	fmt.Printf("install: %v\n", err)
	return 0
}

// xzOf compresses b with the given dictionary.
func xzOf(t *testing.T, b []byte, dict int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := xz.WriterConfig{DictCap: dict}.NewWriter(&buf)
	must(t, err)
	w.Write(b)
	must(t, w.Close())
	return buf.Bytes()
}

// xzStored is a valid xz stream of b made of LZMA2 uncompressed chunks
// under a block header declaring an 8 MiB dictionary: what an encoder
// writes for incompressible data, made here in no time. Decoding it fills
// the whole window and is the decoder's costliest path in garbage.
func xzStored(b []byte) []byte {
	le32 := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	varint := func(w *bytes.Buffer, v uint64) {
		for v >= 0x80 {
			w.WriteByte(byte(v) | 0x80)
			v >>= 7
		}
		w.WriteByte(byte(v))
	}
	flags := []byte{0, 4} // CRC64 check
	var out bytes.Buffer
	out.Write([]byte{0xfd, '7', 'z', 'X', 'Z', 0})
	out.Write(flags)
	out.Write(le32(crc32.ChecksumIEEE(flags)))
	hdr := []byte{2, 0, 0x21, 1, 22, 0, 0, 0} // one LZMA2 filter, dictionary 8 MiB
	hdr = append(hdr, le32(crc32.ChecksumIEEE(hdr))...)
	out.Write(hdr)
	var data bytes.Buffer
	for i := 0; i < len(b); i += 64 << 10 {
		c := b[i:min(i+64<<10, len(b))]
		ctrl := byte(2)
		if i == 0 {
			ctrl = 1 // dictionary reset
		}
		data.Write([]byte{ctrl, byte((len(c) - 1) >> 8), byte(len(c) - 1)})
		data.Write(c)
	}
	data.WriteByte(0)
	out.Write(data.Bytes())
	for pad := (4 - (len(hdr)+data.Len())%4) % 4; pad > 0; pad-- {
		out.WriteByte(0)
	}
	out.Write(binary.LittleEndian.AppendUint64(nil, crc64.Checksum(b, crc64.MakeTable(crc64.ECMA))))
	var idx bytes.Buffer
	idx.WriteByte(0)
	varint(&idx, 1)
	varint(&idx, uint64(len(hdr)+data.Len()+8))
	varint(&idx, uint64(len(b)))
	for idx.Len()%4 != 0 {
		idx.WriteByte(0)
	}
	out.Write(idx.Bytes())
	out.Write(le32(crc32.ChecksumIEEE(idx.Bytes())))
	foot := append(le32(uint32((idx.Len()+4)/4-1)), flags...)
	out.Write(le32(crc32.ChecksumIEEE(foot)))
	out.Write(foot)
	out.Write([]byte("YZ"))
	return out.Bytes()
}

// xzBomb is a data member for the tar t: the first MiB in one xz stream,
// the rest of the declared file (zeros instead of the image) in a second
// stream whose block header declares a 4 GiB dictionary.
func xzBomb(t *testing.T, tarBytes []byte) []byte {
	t.Helper()
	enc := func(b []byte) []byte { return xzOf(t, b, 1<<20) }
	second := enc(make([]byte, len(tarBytes)-1<<20))
	if second[12] != 2 || second[14] != 0x21 {
		t.Fatalf("unexpected xz block header % x", second[12:24])
	}
	second[16] = 40 // 4 GiB - 1
	binary.LittleEndian.PutUint32(second[20:], crc32.ChecksumIEEE(second[12:20]))
	return append(enc(tarBytes[:1<<20]), second...)
}

// swapDataMember replaces the artifact's data member with name and data
// (the signed manifest and header stay: what an attacker can do).
func swapDataMember(t *testing.T, art []byte, name string, data []byte) []byte {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(art))
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	for {
		th, err := tr.Next()
		if err == io.EOF {
			break
		}
		must(t, err)
		b, err := io.ReadAll(tr)
		must(t, err)
		if strings.HasPrefix(th.Name, "data/0000") {
			th.Name, b = name, data
		}
		th.Size = int64(len(b))
		must(t, tw.WriteHeader(th))
		tw.Write(b)
	}
	must(t, tw.Close())
	return out.Bytes()
}

// TestInstallPeakRSS installs, in a child process, genuine 64 MiB
// artifacts (gzip and none with chunk lists, xz with the largest allowed
// dictionary) and hostile ones made from them (a second xz stream with a 4 GiB dictionary; gzip members of
// zeros appended) and checks the child's peak RSS stays within 32 MiB,
// the hostile ones refused.
func TestInstallPeakRSS(t *testing.T) {
	const size = 64 << 20
	w := newWorldSized(t, size+1<<20, size)
	key, pub := menderKeys(t, w.dir, "signing")
	pubFile := filepath.Join(w.dir, "pub.pem")
	must(t, os.WriteFile(pubFile, pub, 0o644))
	none, err := os.ReadFile(menderArtifactWith(t, w, key, "none", true))
	must(t, err)
	gz, err := os.ReadFile(menderArtifactWith(t, w, key, "gzip", true))
	must(t, err)
	var tarBytes []byte
	{
		tr := tar.NewReader(bytes.NewReader(none))
		for {
			th, err := tr.Next()
			must(t, err)
			if th.Name == "data/0000.tar" {
				tarBytes, _ = io.ReadAll(tr)
				break
			}
		}
	}
	var zeros bytes.Buffer
	{
		tr := tar.NewReader(bytes.NewReader(gz))
		for {
			th, err := tr.Next()
			must(t, err)
			if th.Name == "data/0000.tar.gz" {
				b, _ := io.ReadAll(tr)
				zeros.Write(b)
				break
			}
		}
	}
	cfg := w.env.Config()
	for _, tc := range []struct {
		name string
		art  []byte
		want string // substring of the install result
	}{
		{"genuine none", none, "install: <nil>"},
		{"genuine gzip", gz, "install: <nil>"},
		{"genuine xz, 8 MiB dictionary", swapDataMember(t, none, "data/0000.tar.xz", xzStored(tarBytes)), "install: <nil>"},
		{"multi-stream xz bomb", swapDataMember(t, none, "data/0000.tar.xz", xzBomb(t, tarBytes)), "compression window larger than allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Each install starts from an idle device.
			os.Remove(filepath.Join(w.dir, "update.journal"))
			must(t, w.env.WriteEnv(map[string]string{"upgrade_available": "0", "mender_boot_part": "2", "mender_boot_part_hex": "2"}))
			artFile := filepath.Join(w.dir, "art.mender")
			must(t, os.WriteFile(artFile, tc.art, 0o644))
			spec, _ := json.Marshal(rssSpec{Dir: w.dir, Slots: w.slots, EnvFile: cfg.Copies[0].Path, Lock: cfg.LockFile, Artifact: artFile, Pub: pubFile})
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "MEDAGENT_ENGINE_RSS="+string(spec))
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			peak, err := peakrss.Parse(out)
			must(t, err)
			res := out[bytes.LastIndex(out, []byte("install:")):]
			base := out[bytes.Index(out, []byte("baseline")):]
			t.Logf("peak RSS %.1f MiB (%s); %s", float64(peak)/(1<<20), bytes.TrimSpace(base[:bytes.IndexByte(base, '\n')]), bytes.TrimSpace(res))
			if !strings.Contains(string(out), tc.want) {
				t.Errorf("result %q, want %q", out, tc.want)
			}
			if peak > installPeakLimit {
				t.Errorf("peak RSS %d bytes, limit %d", peak, installPeakLimit)
			}
		})
	}
}
