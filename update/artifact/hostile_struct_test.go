package artifact

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// rawMember is an outer or header tar entry with full control of its tar
// header, for entries a well-behaved writer never makes.
type rawMember struct {
	hdr  tar.Header
	data []byte
}

func rawTar(tb testing.TB, ms []rawMember) []byte {
	tb.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range ms {
		h := m.hdr
		if h.Mode == 0 && h.Typeflag != tar.TypeXGlobalHeader {
			h.Mode = 0o644
		}
		if h.Typeflag == tar.TypeReg || h.Typeflag == 0 {
			h.Size = int64(len(m.data))
		}
		if err := tw.WriteHeader(&h); err != nil {
			tb.Fatal(err)
		}
		if len(m.data) > 0 {
			if _, err := tw.Write(m.data); err != nil {
				tb.Fatal(err)
			}
		}
	}
	tw.Close()
	return buf.Bytes()
}

// asRaw turns members into raw members (regular files).
func asRaw(ms []member) []rawMember {
	out := make([]rawMember, len(ms))
	for i, m := range ms {
		out[i] = rawMember{hdr: tar.Header{Name: m.name, Typeflag: tar.TypeReg}, data: m.data}
	}
	return out
}

// hostileCase is an artifact an attacker builds and how it must be refused.
type hostileCase struct {
	name string
	art  []byte
	want error
	msg  string
}

// hostileArtifacts builds the cases of TestHostileStructure, signed with
// sign (they also seed FuzzReader).
func hostileArtifacts(t testing.TB, sign func([]byte) []byte) []hostileCase {
	payload := []byte("payload bytes of a rootfs")
	base := func() goArt { return simpleArt(CompressionGzip, payload, sign) }
	genuine := base().build(t)
	ms := members(t, genuine) // version, manifest, manifest.sig, header.tar.gz, data/0000.tar.gz
	outer := func(f func(rs []rawMember) []rawMember) []byte {
		return rawTar(t, f(asRaw(members(t, genuine))))
	}
	// headerWith builds a signed artifact whose header tar is the given raw
	// entries (so links and devices can be placed in it).
	headerWith := func(entries []rawMember) []byte {
		a := base()
		b := a.build(t)
		hdr := gzipOf(t, rawTar(t, entries))
		// Re-sign a manifest naming this header.
		bm := members(t, b)
		man := strings.Replace(string(bm[1].data), sha256Hex(bm[3].data), sha256Hex(hdr), 1)
		bm[1].data, bm[2].data, bm[3].data = []byte(man), sign([]byte(man)), hdr
		return writeTar(t, bm)
	}
	goodHeader := func() []rawMember {
		return []rawMember{
			{hdr: tar.Header{Name: "header-info", Typeflag: tar.TypeReg}, data: []byte(testHeaderInfo)},
			{hdr: tar.Header{Name: "headers/0000/type-info", Typeflag: tar.TypeReg}, data: []byte(testTypeInfo)},
		}
	}
	with := func(f func(a *goArt)) []byte {
		a := base()
		f(&a)
		return a.build(t)
	}
	headerInfo := func(hi string) []byte {
		return with(func(a *goArt) { a.header[0].data = []byte(hi) })
	}
	deep := strings.Repeat("[", 200000) + strings.Repeat("]", 200000)

	return []hostileCase{
		// Member order and duplicates in the outer tar.
		{"manifest before version", outer(func(rs []rawMember) []rawMember { rs[0], rs[1] = rs[1], rs[0]; return rs }), ErrUnexpectedMember, `member "manifest" where "version" belongs`},
		{"version twice", outer(func(rs []rawMember) []rawMember { return append(rs[:1], rs...) }), ErrUnexpectedMember, `member "version" where "manifest" belongs`},
		{"version again after manifest", outer(func(rs []rawMember) []rawMember { return append(rs[:2], append([]rawMember{rs[0]}, rs[2:]...)...) }), ErrUnexpectedMember, `member "version" where the header belongs`},
		{"manifest twice", outer(func(rs []rawMember) []rawMember { return append(rs[:2], append([]rawMember{rs[1]}, rs[2:]...)...) }), ErrUnexpectedMember, `member "manifest" where the header belongs`},
		{"manifest.sig twice", outer(func(rs []rawMember) []rawMember { return append(rs[:3], append([]rawMember{rs[2]}, rs[3:]...)...) }), ErrUnexpectedMember, `"manifest.sig" where the header belongs`},
		{"header twice", outer(func(rs []rawMember) []rawMember { return append(rs[:4], append([]rawMember{rs[3]}, rs[4:]...)...) }), ErrUnexpectedMember, `"header.tar.gz" where data/0000.tar* belongs`},
		{"data twice", outer(func(rs []rawMember) []rawMember { return append(rs, rs[4]) }), ErrUnexpectedMember, `"data/0000.tar.gz" after the last payload`},
		{"unknown member before header", outer(func(rs []rawMember) []rawMember {
			return append(rs[:3], append([]rawMember{{hdr: tar.Header{Name: "extra", Typeflag: tar.TypeReg}, data: []byte("x")}}, rs[3:]...)...)
		}), ErrUnexpectedMember, `"extra" where the header belongs`},
		{"absolute version", outer(func(rs []rawMember) []rawMember { rs[0].hdr.Name = "/version"; return rs }), ErrUnexpectedMember, `"/version"`},
		{"dot-slash version", outer(func(rs []rawMember) []rawMember { rs[0].hdr.Name = "./version"; return rs }), ErrUnexpectedMember, `"./version"`},
		{"traversal data name", outer(func(rs []rawMember) []rawMember { rs[4].hdr.Name = "../data/0000.tar.gz"; return rs }), ErrUnexpectedMember, `"../data/0000.tar.gz"`},
		{"global PAX header first", outer(func(rs []rawMember) []rawMember {
			return append([]rawMember{{hdr: tar.Header{Typeflag: tar.TypeXGlobalHeader, PAXRecords: map[string]string{"comment": "x"}}}}, rs...)
		}), ErrUnexpectedMember, "not a plain regular file"},
		// Links and special files in the outer tar.
		{"version is a symlink", outer(func(rs []rawMember) []rawMember {
			rs[0] = rawMember{hdr: tar.Header{Name: "version", Typeflag: tar.TypeSymlink, Linkname: "/etc/shadow"}}
			return rs
		}), ErrUnexpectedMember, "not a plain regular file"},
		{"data is a hard link", outer(func(rs []rawMember) []rawMember {
			rs[4] = rawMember{hdr: tar.Header{Name: "data/0000.tar.gz", Typeflag: tar.TypeLink, Linkname: "header.tar.gz"}}
			return rs
		}), ErrUnexpectedMember, "not a plain regular file"},
		{"header is a block device", outer(func(rs []rawMember) []rawMember {
			rs[3] = rawMember{hdr: tar.Header{Name: "header.tar.gz", Typeflag: tar.TypeBlock, Devmajor: 8}}
			return rs
		}), ErrUnexpectedMember, "not a plain regular file"},
		{"manifest.sig is a FIFO", outer(func(rs []rawMember) []rawMember {
			rs[2] = rawMember{hdr: tar.Header{Name: "manifest.sig", Typeflag: tar.TypeFifo}}
			return rs
		}), ErrUnexpectedMember, "not a plain regular file"},
		{"data is a directory", outer(func(rs []rawMember) []rawMember {
			rs[4] = rawMember{hdr: tar.Header{Name: "data/0000.tar.gz", Typeflag: tar.TypeDir}}
			return rs
		}), ErrUnexpectedMember, "not a plain regular file"},
		// Sizes that lie and oversized members.
		{"version of 1 GiB", outer(func(rs []rawMember) []rawMember {
			rs[0] = rawMember{hdr: tar.Header{Name: "version", Typeflag: tar.TypeChar}}
			return rs
		}), ErrUnexpectedMember, "not a plain regular file"},
		{"huge header member", func() []byte {
			// The header member's size is checked before a byte is read.
			big := append(bytes.Clone(ms[3].data), make([]byte, MaxHeaderSize)...)
			return writeTar(t, []member{ms[0], ms[1], ms[2], {name: "header.tar.gz", data: big}, ms[4]})
		}(), ErrFormat, "header.tar.gz"},
		{"huge manifest", writeTar(t, []member{ms[0], {name: "manifest", data: make([]byte, MaxManifestSize+1)}, ms[2], ms[3], ms[4]}), ErrFormat, `"manifest" is 1048577 bytes`},
		{"huge signature", writeTar(t, []member{ms[0], ms[1], {name: "manifest.sig", data: make([]byte, MaxSignatureSize+1)}, ms[3], ms[4]}), ErrFormat, "manifest.sig"},
		// The signature and the manifest.
		{"signature of another manifest", writeTar(t, []member{ms[0], ms[1], {name: "manifest.sig", data: sign([]byte(strings.ToUpper(string(ms[1].data))))}, ms[3], ms[4]}), ErrSignature, ""},
		{"manifest lists version twice (case)", with(func(a *goArt) {
			a.edit = func(m string) string { return m + strings.Repeat("0", 64) + "  Version\n" }
		}), ErrMissing, "Version"},
		{"manifest name with newline escape", with(func(a *goArt) {
			a.edit = func(m string) string { return m + strings.Repeat("0", 64) + "  data/0000/a\rb\n" }
		}), ErrFormat, "bad name"},
		{"manifest absolute name", with(func(a *goArt) {
			a.edit = func(m string) string { return m + strings.Repeat("0", 64) + "  /data/0000/x\n" }
		}), ErrFormat, "bad name"},
		// Header tar contents.
		{"header-info is a symlink", headerWith([]rawMember{{hdr: tar.Header{Name: "header-info", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}}}), ErrUnexpectedMember, "not a plain regular file"},
		{"type-info is a hard link", headerWith(append(goodHeader()[:1], rawMember{hdr: tar.Header{Name: "headers/0000/type-info", Typeflag: tar.TypeLink, Linkname: "header-info"}})), ErrUnexpectedMember, "not a plain regular file"},
		{"script is a char device", headerWith(append(goodHeader()[:1], rawMember{hdr: tar.Header{Name: "scripts/ArtifactInstall_Enter_00", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3}})), ErrUnexpectedMember, "not a plain regular file"},
		{"script name traversal", headerWith(append(goodHeader()[:1], rawMember{hdr: tar.Header{Name: "scripts/../../etc/cron.d/x", Typeflag: tar.TypeReg}, data: []byte("#!/bin/sh\n")}, goodHeader()[1])), ErrUnexpectedMember, "scripts/../../etc/cron.d/x"},
		{"script name absolute", headerWith(append(goodHeader()[:1], rawMember{hdr: tar.Header{Name: "/scripts/ArtifactInstall_Enter_00", Typeflag: tar.TypeReg}, data: []byte("#!/bin/sh\n")}, goodHeader()[1])), ErrUnexpectedMember, "/scripts/"},
		{"script in a subdirectory", headerWith(append(goodHeader()[:1], rawMember{hdr: tar.Header{Name: "scripts/a/ArtifactInstall_Enter_00", Typeflag: tar.TypeReg}, data: []byte("#!/bin/sh\n")}, goodHeader()[1])), ErrUnexpectedMember, "scripts/a/"},
		{"script name with control character", headerWith(append(goodHeader()[:1], rawMember{hdr: tar.Header{Name: "scripts/ArtifactInstall_Enter_00\x1b[2J", Typeflag: tar.TypeReg}, data: []byte("#!/bin/sh\n")}, goodHeader()[1])), ErrUnexpectedMember, "scripts/"},
		{"header-info twice", headerWith(append(goodHeader(), goodHeader()[0])), ErrUnexpectedMember, "header-info"},
		{"type-info twice", headerWith(append(goodHeader(), goodHeader()[1])), ErrUnexpectedMember, "headers/0000/type-info"},
		{"meta-data twice", headerWith(append(goodHeader(),
			rawMember{hdr: tar.Header{Name: "headers/0000/meta-data", Typeflag: tar.TypeReg}, data: []byte(`{"a":1}`)},
			rawMember{hdr: tar.Header{Name: "headers/0000/meta-data", Typeflag: tar.TypeReg}, data: []byte(`{"a":2}`)})), ErrUnexpectedMember, "headers/0000/meta-data"},
		{"header file too big", headerWith(append(goodHeader(), rawMember{hdr: tar.Header{Name: "headers/0000/meta-data", Typeflag: tar.TypeReg}, data: []byte(`{"a":"` + strings.Repeat("a", MaxHeaderFileSize) + `"}`)})), ErrFormat, "limit"},
		{"header decompresses beyond its bound", headerWith(append(goodHeader()[:1], func() []rawMember {
			var out []rawMember
			for i := range 6 {
				out = append(out, rawMember{hdr: tar.Header{Name: "scripts/ArtifactInstall_Enter_0" + string(rune('0'+i)), Typeflag: tar.TypeReg}, data: make([]byte, MaxHeaderFileSize-1024)})
			}
			return out
		}()...)), ErrFormat, "header"},
		// JSON bombs and parser differentials in the signed header.
		{"meta-data nested 200000 deep", headerWith(append(goodHeader(), rawMember{hdr: tar.Header{Name: "headers/0000/meta-data", Typeflag: tar.TypeReg}, data: []byte(`{"a":` + deep + `}`)})), ErrFormat, "meta-data"},
		{"meta-data huge number", headerWith(append(goodHeader(), rawMember{hdr: tar.Header{Name: "headers/0000/meta-data", Typeflag: tar.TypeReg}, data: []byte(`{"a":1e999999}`)})), ErrFormat, "meta-data"},
		{"header-info duplicate key", headerInfo(`{"payloads":[{"type":"rootfs-image"}],"artifact_provides":{"artifact_name":"go-1","artifact_name":"evil"},"artifact_depends":{"device_type":["bedside-a"]}}`), ErrFormat, `duplicate key "artifact_name"`},
		{"header-info key in other case", headerInfo(`{"payloads":[{"type":"rootfs-image"}],"artifact_provides":{"artifact_name":"go-1"},"artifact_depends":{"device_type":["other"],"DEVICE_TYPE":["bedside-a"]}}`), ErrFormat, `"DEVICE_TYPE"`},
		{"header-info duplicate object", headerInfo(`{"payloads":[{"type":"rootfs-image"}],"artifact_provides":{"artifact_name":"go-1"},"artifact_depends":{"device_type":["other"]},"artifact_depends":{"device_type":["bedside-a"]}}`), ErrFormat, `duplicate key "artifact_depends"`},
		{"type-info duplicate key", with(func(a *goArt) {
			a.header[1].data = []byte(`{"type":"rootfs-image","artifact_depends":{"k":"a","k":"b"}}`)
		}), ErrFormat, `duplicate key "k"`},
		{"meta-data duplicate chunk list", headerWith(append(goodHeader(), rawMember{hdr: tar.Header{Name: "headers/0000/meta-data", Typeflag: tar.TypeReg}, data: []byte(`{"medagent.chunks":{},"medagent.chunks":{}}`)})), ErrFormat, `duplicate key "medagent.chunks"`},
		{"version duplicate key", with(func(a *goArt) { a.version = `{"format":"mender","version":2,"version":3}` }), ErrFormat, `duplicate key "version"`},
		// Device type tricks.
		{"device type with a space", headerInfo(strings.Replace(testHeaderInfo, `["bedside-a"]`, `["bedside-a "]`, 1)), ErrDeviceType, `"bedside-a "`},
		{"device type in other case", headerInfo(strings.Replace(testHeaderInfo, `["bedside-a"]`, `["BEDSIDE-A"]`, 1)), ErrDeviceType, "BEDSIDE-A"},
		{"device type as a glob", headerInfo(strings.Replace(testHeaderInfo, `["bedside-a"]`, `["*"]`, 1)), ErrDeviceType, `"*"`},
		{"device type as a string", headerInfo(strings.Replace(testHeaderInfo, `["bedside-a"]`, `"bedside-a"`, 1)), ErrFormat, "device_type"},
		{"device type with NUL", headerInfo(strings.Replace(testHeaderInfo, `["bedside-a"]`, `["bedside-a\u0000"]`, 1)), ErrFormat, "control"},
		// Text an operator is shown (inspect, logs, audit) that is not
		// what it looks like.
		{"artifact name with a terminal escape", headerInfo(strings.Replace(testHeaderInfo, `"go-1"`, `"go-1\u001b]0;pwned\u0007"`, 1)), ErrFormat, "artifact_provides"},
		{"artifact name with a C1 CSI", headerInfo(strings.Replace(testHeaderInfo, `"go-1"`, "\"go-1\u009b2J\"", 1)), ErrFormat, "control"},
		{"artifact name with a newline", headerInfo(strings.Replace(testHeaderInfo, `"go-1"`, `"go-1\nupdate.committed artifact=evil"`, 1)), ErrFormat, "control"},
		{"artifact name with a right-to-left override", headerInfo(strings.Replace(testHeaderInfo, `"go-1"`, "\"go-1\u202egpj.exe\"", 1)), ErrFormat, "bidirectional"},
		{"artifact name not UTF-8", headerInfo(strings.Replace(testHeaderInfo, `"go-1"`, "\"go-1\xff\"", 1)), ErrFormat, "UTF-8"},
		{"device type with an escape", headerInfo(strings.Replace(testHeaderInfo, `["bedside-a"]`, `["bedside-a","\u001b[2J"]`, 1)), ErrFormat, "artifact_depends"},
		{"provides value with an escape", with(func(a *goArt) {
			a.header[1].data = []byte(`{"type":"rootfs-image","artifact_provides":{"rootfs-image.version":"1\u001b[31m"}}`)
		}), ErrFormat, "artifact_provides"},
		{"depends value with an escape", with(func(a *goArt) {
			a.header[1].data = []byte(`{"type":"rootfs-image","artifact_depends":{"k":["a","\u0085"]}}`)
		}), ErrFormat, "artifact_depends.k"},
		{"clears pattern with an escape", with(func(a *goArt) {
			a.header[1].data = []byte(`{"type":"rootfs-image","clears_artifact_provides":["\u001b*"]}`)
		}), ErrFormat, "clears_artifact_provides"},
		{"meta-data with a raw C1 control", headerWith(append(goodHeader(), rawMember{hdr: tar.Header{Name: "headers/0000/meta-data", Typeflag: tar.TypeReg}, data: []byte("{\"a\":\"\u009b2J\"}")})), ErrFormat, "meta-data"},
		{"payload file name with a C1 control", with(func(a *goArt) { a.payloads[0][0].name = "rootfs\u009b.img" }), ErrFormat, "bad name"},
		{"script name with a bidi override", headerWith(append(goodHeader()[:1], rawMember{hdr: tar.Header{Name: "scripts/ArtifactInstall_Enter_00\u202e", Typeflag: tar.TypeReg}, data: []byte("#!/bin/sh\n")}, goodHeader()[1])), ErrUnexpectedMember, "scripts/"},
		// Format and payload count.
		{"version 3 as a string", with(func(a *goArt) { a.version = `{"format":"mender","version":"3"}` }), ErrFormat, "version"},
		{"version 3.0", with(func(a *goArt) { a.version = `{"format":"mender","version":3.0}` }), ErrFormat, "version"},
		{"format in other case", with(func(a *goArt) { a.version = `{"FORMAT":"mender","version":3}` }), ErrFormat, `"FORMAT"`},
		{"17 payloads", headerInfo(strings.Replace(testHeaderInfo, `[{"type":"rootfs-image"}]`, "["+strings.Repeat(`{"type":"rootfs-image"},`, 16)+`{"type":"rootfs-image"}]`, 1)), ErrFormat, "17 payloads"},
		// The outer archive's tail.
		{"junk after the end-of-archive marker", append(bytes.Clone(genuine), "junk"...), ErrFormat, "data after the end-of-archive marker"},
		{"a second archive after the first", append(bytes.Clone(genuine), genuine...), ErrFormat, "data after the end-of-archive marker"},
		{"padding beyond its bound", append(bytes.Clone(genuine), make([]byte, maxTrailingZeroBytes+4096)...), ErrFormat, "padding after the end-of-archive marker"},
		// Compressed members with a tail.
		{"header gzip with trailing garbage", func() []byte {
			hdr := append(gzipOf(t, tarOf(t, base().header)), "trailing"...)
			bm := members(t, genuine)
			man := strings.Replace(string(bm[1].data), sha256Hex(bm[3].data), sha256Hex(hdr), 1)
			bm[1].data, bm[2].data, bm[3].data = []byte(man), sign([]byte(man)), hdr
			return writeTar(t, bm)
		}(), ErrFormat, "header"},
		{"data gzip with trailing garbage", replaceData(t, genuine, "data/0000.tar.gz", append(bytes.Clone(ms[4].data), "junkjunk"...)), ErrFormat, "member is complete"},
		{"data gzip member cut short inside a complete member", replaceData(t, genuine, "data/0000.tar.gz", ms[4].data[:len(ms[4].data)-9]), ErrFormat, "member is complete"},
		{"data tar cut short inside a complete member", func() []byte {
			plain := simpleArt(CompressionNone, payload, sign).build(t)
			d := memberAt(t, plain, "data/0000.tar").data
			return replaceData(t, plain, "data/0000.tar", d[:700])
		}(), ErrFormat, "no end-of-archive marker"},
		{"data gzip second member is a second tar", replaceData(t, genuine, "data/0000.tar.gz", append(bytes.Clone(ms[4].data), gzipOf(t, tarOf(t, []member{{name: "evil", data: []byte("x")}}))...)), ErrFormat, "data after the end of the inner tar"},
	}
}

// TestHostileStructure feeds artifacts an attacker builds by hand, from a
// genuine signed one or from scratch with a key the device trusts, and
// checks each is refused with the sentinel and a message that names the
// problem (and that reading ends: every case runs under a deadline).
func TestHostileStructure(t *testing.T) {
	k := newGoKeys(t)
	for _, tc := range hostileArtifacts(t, k.signRSA) {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() { _, _, err := readAll(tc.art, Options{Keys: k.public(), DeviceType: "bedside-a"}); done <- err }()
			var err error
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("reading did not end in 30 s")
			}
			if err == nil {
				t.Fatal("hostile artifact accepted")
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %v, want %v mentioning %q", err, tc.want, tc.msg)
			}
		})
	}
}

// TestTruncatedEverywhere cuts a signed artifact at every 512-byte block
// and at every member boundary ±1: each cut is refused as truncated (or,
// when the cut falls inside a member, as that member being short), never
// accepted, never a panic.
func TestTruncatedEverywhere(t *testing.T) {
	k := newGoKeys(t)
	for _, comp := range []string{CompressionNone, CompressionGzip, CompressionXZ, CompressionZstd} {
		art := simpleArt(comp, testImage(3000, 7), k.signECDER).build(t)
		cuts := map[int]bool{}
		for i := 0; i < len(art); i += 512 {
			cuts[i] = true
		}
		for _, m := range members(t, art) {
			for _, d := range []int64{-513, -512, -1, 0, 1, 511} {
				for _, at := range []int64{m.start + d, m.start + int64(len(m.data)) + d} {
					if at >= 0 && at < int64(len(art)) {
						cuts[int(at)] = true
					}
				}
			}
		}
		for i := len(art) - 1100; i < len(art); i++ {
			cuts[i] = true // inside the end-of-archive marker
		}
		for cut := range cuts {
			_, _, err := readAll(art[:cut], Options{Keys: k.public(), DeviceType: "bedside-a"})
			if err == nil {
				t.Errorf("%s: cut at %d of %d accepted", comp, cut, len(art))
				continue
			}
			if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrFormat) && !errors.Is(err, ErrChecksum) {
				t.Errorf("%s: cut at %d: %v wraps neither ErrTruncated, ErrFormat nor ErrChecksum", comp, cut, err)
			}
		}
	}
}

// TestDeviceTypeListContaining: a list that contains the device's type is
// what Mender means by compatibility, and is accepted.
func TestDeviceTypeListContaining(t *testing.T) {
	k := newGoKeys(t)
	a := simpleArt(CompressionNone, []byte("x"), k.signRSA)
	a.header[0].data = []byte(strings.Replace(testHeaderInfo, `["bedside-a"]`, `["pump","bedside-a","monitor"]`, 1))
	if _, _, err := readAll(a.build(t), Options{Keys: k.public(), DeviceType: "bedside-a"}); err != nil {
		t.Fatal(err)
	}
}

// TestPrintableTextAccepted: names in other scripts and meta-data laid
// out on several lines are ordinary, and read.
func TestPrintableTextAccepted(t *testing.T) {
	k := newGoKeys(t)
	a := simpleArt(CompressionNone, []byte("x"), k.signRSA)
	a.header[0].data = []byte(strings.Replace(testHeaderInfo, `"go-1"`, `"Überwachung-2.1 (Größe M) 床边监护"`, 1))
	a.header[2].data = []byte("{\n\t\"Modell\": \"Größe M\"\r\n}\n")
	h, _, err := readAll(a.build(t), Options{Keys: k.public(), DeviceType: "bedside-a"})
	if err != nil {
		t.Fatal(err)
	}
	if h.Name != "Überwachung-2.1 (Größe M) 床边监护" {
		t.Errorf("name %q", h.Name)
	}
}

// eofSpy reports whether its reader reached io.EOF, and can turn that EOF
// into an error (as a digest check over the whole input does).
type eofSpy struct {
	r     *bytes.Reader
	eof   bool
	atEOF error
}

func (s *eofSpy) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err == io.EOF {
		s.eof = true
		if s.atEOF != nil {
			return n, s.atEOF
		}
	}
	return n, err
}

// TestReaderReadsInputToItsEnd: Next reports an artifact valid only after
// reading its input to the end (zero padding, as tar record blocking
// writes, is accepted), so a caller's check at the input's end (remote's
// digest of the file) runs before any install is armed.
func TestReaderReadsInputToItsEnd(t *testing.T) {
	k := newGoKeys(t)
	art := simpleArt(CompressionGzip, testImage(100<<10, 3), k.signRSA).build(t)
	padded := append(bytes.Clone(art), make([]byte, 10240-len(art)%10240)...)
	for _, in := range [][]byte{art, padded} {
		spy := &eofSpy{r: bytes.NewReader(in)}
		if _, err := readAllFrom(spy, Options{Keys: k.public(), DeviceType: "bedside-a"}); err != nil {
			t.Fatal(err)
		}
		if !spy.eof {
			t.Error("artifact accepted before its input was read to the end")
		}
	}
	changed := errors.New("input changed")
	spy := &eofSpy{r: bytes.NewReader(art), atEOF: changed}
	if _, err := readAllFrom(spy, Options{Keys: k.public(), DeviceType: "bedside-a"}); !errors.Is(err, changed) {
		t.Fatalf("error %v, want the input's error at its end", err)
	}
}

func readAllFrom(src io.Reader, opt Options) (*Header, error) {
	r, err := NewReader(src, opt)
	if err != nil {
		return nil, err
	}
	for {
		pf, err := r.Next()
		if err == io.EOF {
			return r.Header(), nil
		}
		if err != nil {
			return nil, err
		}
		if _, err := io.Copy(io.Discard, pf); err != nil {
			return nil, err
		}
	}
}
