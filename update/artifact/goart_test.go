package artifact

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestGoBuiltArtifacts(t *testing.T) {
	k := newGoKeys(t)
	payload := testImage(200<<10, 9)
	for _, tc := range []struct {
		name string
		art  goArt
	}{
		{"zstd rsa", simpleArt(CompressionZstd, payload, k.signRSA)},
		{"xz ecdsa der", simpleArt(CompressionXZ, payload, k.signECDER)},
		{"gzip ecdsa raw", simpleArt(CompressionGzip, payload, k.signECRaw)},
		{"none rsa", simpleArt(CompressionNone, payload, k.signRSA)},
		{"two payloads", func() goArt {
			a := simpleArt(CompressionZstd, payload, k.signRSA)
			a.header = []member{
				{name: "header-info", data: []byte(strings.Replace(testHeaderInfo, `[{"type":"rootfs-image"}]`, `[{"type":"rootfs-image"},{"type":"ecg"}]`, 1))},
				{name: "scripts/ArtifactInstall_Enter_00", data: []byte("#!/bin/sh\n")},
				{name: "headers/0000/type-info", data: []byte(testTypeInfo)},
				{name: "headers/0001/type-info", data: []byte(`{"type":"ecg"}`)},
				{name: "headers/0001/meta-data", data: []byte(`{"a":1}`)},
			}
			a.payloads = append(a.payloads, []member{{name: "fw.bin", data: []byte("fw")}, {name: "fw.sig", data: nil}})
			return a
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.art.build(t)
			h, files, err := readAll(b, Options{Keys: k.public(), DeviceType: "bedside-a"})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(files["rootfs.img"], payload) {
				t.Error("payload differs")
			}
			if h.Name != "go-1" || !h.Verified || h.Compression != tc.art.comp {
				t.Errorf("header %+v", h)
			}
			if len(tc.art.payloads) == 2 && (string(files["fw.bin"]) != "fw" || len(h.Scripts) != 1 || h.Payloads[1].Type != "ecg") {
				t.Errorf("second payload: files %q scripts %v payloads %+v", files, h.Scripts, h.Payloads)
			}
		})
	}
}

func TestRefusesBadStructure(t *testing.T) {
	k := newGoKeys(t)
	payload := []byte("payload")
	base := func() goArt { return simpleArt(CompressionGzip, payload, k.signRSA) }
	with := func(f func(a *goArt)) []byte {
		a := base()
		f(&a)
		return a.build(t)
	}
	header := func(files ...string) func(a *goArt) {
		return func(a *goArt) {
			a.header = nil
			for i := 0; i < len(files); i += 2 {
				a.header = append(a.header, member{name: files[i], data: []byte(files[i+1])})
			}
		}
	}
	for _, tc := range []struct {
		name string
		art  []byte
		want error
		msg  string
	}{
		{"version 2", with(func(a *goArt) { a.version = `{"format":"mender","version":2}` }), ErrFormat, "only mender version 3"},
		{"unknown field in version", with(func(a *goArt) { a.version = `{"format":"mender","version":3,"x":1}` }), ErrFormat, "unknown field"},
		{"manifest entry without content", with(func(a *goArt) {
			a.edit = func(m string) string { return m + strings.Repeat("0", 64) + "  data/0000/ghost\n" }
		}), ErrMissing, "ghost"},
		{"payload file not in manifest", with(func(a *goArt) {
			a.edit = func(m string) string {
				lines := strings.Split(m, "\n")
				return strings.Join(lines[1:], "\n")
			}
		}), ErrUnexpectedMember, "not listed in the manifest"},
		{"bad manifest line", with(func(a *goArt) { a.edit = func(m string) string { return "xyz  version\n" + m } }), ErrFormat, "manifest line 1"},
		{"duplicate manifest line", with(func(a *goArt) {
			a.edit = func(m string) string { return m + strings.SplitAfter(m, "\n")[0] }
		}), ErrFormat, "duplicate"},
		{"manifest path traversal", with(func(a *goArt) {
			a.edit = func(m string) string { return m + strings.Repeat("0", 64) + "  data/../etc\n" }
		}), ErrFormat, "bad name"},
		{"type mismatch", with(header("header-info", testHeaderInfo, "headers/0000/type-info", `{"type":"other"}`)), ErrFormat, "differs"},
		{"unknown header-info field", with(header("header-info", strings.Replace(testHeaderInfo, `"payloads"`, `"surprise":1,"payloads"`, 1), "headers/0000/type-info", testTypeInfo)), ErrFormat, "unknown field"},
		{"no device types", with(header("header-info", `{"payloads":[{"type":"x"}],"artifact_provides":{"artifact_name":"a"},"artifact_depends":{}}`, "headers/0000/type-info", `{}`)), ErrFormat, "device_type"},
		{"no artifact name", with(header("header-info", `{"payloads":[{"type":"x"}],"artifact_depends":{"device_type":["bedside-a"]}}`, "headers/0000/type-info", `{}`)), ErrFormat, "artifact_name"},
		{"missing type-info", with(header("header-info", testHeaderInfo)), ErrMissing, "type-info"},
		{"header-info not first", with(header("headers/0000/type-info", testTypeInfo, "header-info", testHeaderInfo)), ErrUnexpectedMember, "want header-info"},
		{"unknown header file", with(header("header-info", testHeaderInfo, "headers/0000/type-info", testTypeInfo, "headers/0000/files", "x")), ErrUnexpectedMember, "headers/0000/files"},
		{"script after headers", with(header("header-info", testHeaderInfo, "headers/0000/type-info", testTypeInfo, "scripts/Download_Enter_00", "x")), ErrUnexpectedMember, "scripts/"},
		{"meta-data not an object", with(header("header-info", testHeaderInfo, "headers/0000/type-info", testTypeInfo, "headers/0000/meta-data", "[1]")), ErrFormat, "JSON object"},
		{"bad depends value", with(header("header-info", testHeaderInfo, "headers/0000/type-info", `{"artifact_depends":{"k":1}}`)), ErrFormat, "artifact_depends.k"},
		{"payload file in subdirectory", with(func(a *goArt) { a.payloads[0][0].name = "dir/x" }), ErrUnexpectedMember, "not a plain file"},
		{"header-augment", func() []byte {
			ms := members(t, base().build(t))
			ms[3].name = "header-augment.tar.gz"
			return writeTar(t, ms)
		}(), ErrAugmented, "augmented (delta) artifacts are not supported"},
		{"header-augment after header", func() []byte {
			ms := members(t, base().build(t))
			ms = append(ms[:4], append([]member{{name: "header-augment.tar.gz", data: ms[3].data}}, ms[4:]...)...)
			return writeTar(t, ms)
		}(), ErrAugmented, "augmented (delta)"},
		{"unknown compression", func() []byte {
			ms := members(t, base().build(t))
			ms[4].name = "data/0000.tar.bz2"
			return writeTar(t, ms)
		}(), ErrUnexpectedMember, "data/0000.tar.bz2"},
		{"sparse payload file", func() []byte {
			// A GNU sparse file (PAX 1.0) of 4 TiB in a few hundred bytes:
			// the tar reader would expand its hole without reading input.
			ms := members(t, base().build(t))
			ms[4] = member{name: "data/0000.tar.gz", data: gzipOf(t, sparseTar(t, "rootfs.img", 1<<42))}
			return writeTar(t, ms)
		}(), ErrUnexpectedMember, "not a plain file"},
		{"not a tar", bytes.Repeat([]byte("junk"), 1024), ErrFormat, "not a valid tar header"},
		{"data member not a tar inside (gzip of gzip)", func() []byte {
			ms := members(t, simpleArt(CompressionGzip, testImage(64<<10, 5), k.signRSA).build(t))
			ms[4].data = gzipOf(t, ms[4].data)
			return writeTar(t, ms)
		}(), ErrFormat, "not a valid tar header"},
		{"data garbage after inner tar", with(func(a *goArt) { a.comp = CompressionNone }), nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			art := tc.art
			if tc.want == nil { // built for the append case below
				ms := members(t, art)
				ms[len(ms)-1].data = append(ms[len(ms)-1].data, 'x')
				art, tc.want, tc.msg = writeTar(t, ms), ErrFormat, "data after the end"
			}
			_, _, err := readAll(art, Options{Keys: k.public(), DeviceType: "bedside-a"})
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %v, want %v mentioning %q", err, tc.want, tc.msg)
			}
		})
	}
}

// TestUnreadFileIsCheckedByNext: skipping a file still verifies it.
func TestUnreadFileIsCheckedByNext(t *testing.T) {
	k := newGoKeys(t)
	b := simpleArt(CompressionNone, testImage(10000, 3), k.signRSA).build(t)
	m := memberAt(t, b, "data/0000.tar")
	b = flip(b, m.start+512+5)
	r, err := NewReader(bytes.NewReader(b), Options{Keys: k.public(), DeviceType: "bedside-a"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); !errors.Is(err, ErrChecksum) {
		t.Fatalf("Next after an unread tampered file: %v, want ErrChecksum", err)
	}
	if _, err := r.Next(); !errors.Is(err, ErrChecksum) {
		t.Fatalf("error not sticky: %v", err)
	}
}

func TestStaleFileRead(t *testing.T) {
	k := newGoKeys(t)
	a := simpleArt(CompressionNone, []byte("one"), k.signECRaw)
	a.payloads[0] = append(a.payloads[0], member{name: "two", data: []byte("two")})
	r, err := NewReader(bytes.NewReader(a.build(t)), Options{Keys: k.public(), DeviceType: "bedside-a"})
	if err != nil {
		t.Fatal(err)
	}
	first, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if _, err := first.Read(make([]byte, 10)); err == nil || !strings.Contains(err.Error(), "after Next") {
		t.Fatalf("stale read: %v", err)
	}
}

// sparseTar is a tar holding one GNU sparse file (PAX format 1.0) of
// realsize bytes, almost all hole, written by hand: archive/tar writes no
// sparse files.
func sparseTar(tb testing.TB, name string, realsize int64) []byte {
	tb.Helper()
	rec := func(k, v string) string {
		n := len(k) + len(v) + 3
		for len(fmt.Sprintf("%d %s=%s\n", n, k, v)) != n {
			n++
		}
		return fmt.Sprintf("%d %s=%s\n", n, k, v)
	}
	pax := rec("GNU.sparse.major", "1") + rec("GNU.sparse.minor", "0") + rec("GNU.sparse.name", name) +
		rec("GNU.sparse.realsize", fmt.Sprint(realsize))
	sparseMap := fmt.Sprintf("1\n%d\n1\n", realsize-1) // one data byte at the very end
	body := append(append([]byte(sparseMap), make([]byte, 512-len(sparseMap))...), 'x')
	// Written block by block: tar.Writer writes no 'x' entry by hand and
	// drops GNU.sparse records.
	var out []byte
	for _, e := range []struct {
		typ  byte
		name string
		data []byte
	}{{'x', "PaxHeaders/" + name, []byte(pax)}, {'0', "GNUSparseFile.0/" + name, body}} {
		h := make([]byte, 512)
		copy(h, e.name)
		copy(h[100:], "0000644\x00")
		copy(h[124:], fmt.Sprintf("%011o\x00", len(e.data)))
		copy(h[136:], "00000000000\x00")
		h[156] = e.typ
		copy(h[257:], "ustar\x0000")
		copy(h[148:], "        ")
		sum := 0
		for _, c := range h {
			sum += int(c)
		}
		copy(h[148:], fmt.Sprintf("%06o\x00 ", sum))
		out = append(out, h...)
		out = append(out, e.data...)
		out = append(out, make([]byte, (512-len(e.data)%512)%512)...)
	}
	return append(out, make([]byte, 1024)...)
}
