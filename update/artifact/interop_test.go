package artifact

import (
	"bytes"
	"crypto"
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAcceptsMenderArtifacts(t *testing.T) {
	f := getFixture(t)
	dev := map[string]string{"artifact_name": "rel-0", "ecg-fw.version": "1.0"}
	for _, tc := range []struct {
		art        string
		keys       []crypto.PublicKey
		typ, comp  string
		wantFiles  map[string][]byte
		wantSigned bool
	}{
		{"rootfs-gzip-rsa", f.rsaKeys, "rootfs-image", CompressionGzip, map[string][]byte{"rootfs.ext4": f.image}, true},
		{"rootfs-lzma-ec", f.ecKeys, "rootfs-image", CompressionXZ, map[string][]byte{"rootfs.ext4": f.image}, true},
		{"rootfs-none-rsa", f.rsaKeys, "rootfs-image", CompressionNone, map[string][]byte{"rootfs.ext4": f.image}, true},
		// Key rotation: any trusted key may match.
		{"rootfs-gzip-rsa", slices.Concat(f.otherKeys, f.ecKeys, f.rsaKeys), "rootfs-image", CompressionGzip, map[string][]byte{"rootfs.ext4": f.image}, true},
		{"module-gzip-ec", slices.Concat(f.rsaKeys, f.ecKeys), "ecg-firmware", CompressionGzip, map[string][]byte{"a.bin": f.modA, "b.txt": f.modB}, true},
		{"rootfs-none-unsigned", nil, "rootfs-image", CompressionNone, map[string][]byte{"rootfs.ext4": f.image}, false},
	} {
		t.Run(tc.art, func(t *testing.T) {
			opt := Options{Keys: tc.keys, DeviceType: "bedside-a", Provides: dev, AllowUnsigned: tc.keys == nil}
			if tc.comp == CompressionXZ {
				opt.MaxWindow = 64 << 20 // mender-artifact's lzma dictionary
			}
			h, files, err := readAll(f.read(t, tc.art), opt)
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if diff := cmp.Diff(tc.wantFiles, files); diff != "" {
				t.Errorf("payload files differ from the input (-want +got):\n%.400s", diff)
			}
			if h.Compression != tc.comp || h.Payloads[0].Compression != tc.comp {
				t.Errorf("compression %q/%q, want %q", h.Compression, h.Payloads[0].Compression, tc.comp)
			}
			if h.Payloads[0].Type != tc.typ || h.Signed != tc.wantSigned || h.Verified != tc.wantSigned {
				t.Errorf("type %q signed %v verified %v", h.Payloads[0].Type, h.Signed, h.Verified)
			}
			if h.Format != "mender" || h.Version != 3 {
				t.Errorf("format %q %d", h.Format, h.Version)
			}
			if tc.keys != nil {
				if code := validate(t, f.read(t, tc.art), pubFor(f, tc.art)); code != 0 {
					t.Errorf("mender-artifact validate disagrees: exit %d", code)
				}
			}
		})
	}
}

func pubFor(f *fixture, art string) string {
	if bytes.Contains([]byte(art), []byte("-ec")) {
		return f.ecPub
	}
	return f.rsaPub
}

func TestHeaderFields(t *testing.T) {
	f := getFixture(t)
	h, _, err := readAll(f.read(t, "module-gzip-ec"), Options{Keys: f.ecKeys, DeviceType: "bedside-a",
		Provides: map[string]string{"artifact_name": "rel-0", "ecg-fw.version": "1.0"}})
	if err != nil {
		t.Fatal(err)
	}
	want := Payload{
		Type:           "ecg-firmware",
		Provides:       map[string]string{"ecg-fw.version": "2.0", "rootfs-image.ecg-firmware.version": "mod-1"},
		Depends:        map[string][]string{"ecg-fw.version": {"1.0"}},
		ClearsProvides: []string{"ecg-fw.*", "rootfs-image.ecg-firmware.*"},
		MetaData:       []byte(`{"model":"bedside-7"}`),
		Compression:    CompressionGzip,
		Files:          []string{"a.bin", "b.txt"},
	}
	if diff := cmp.Diff(want, h.Payloads[0]); diff != "" {
		t.Errorf("payload header (-want +got):\n%s", diff)
	}
	if h.Name != "mod-1" || !slices.Equal(h.DeviceTypes, []string{"bedside-a"}) || !slices.Equal(h.DependsNames, []string{"rel-0"}) {
		t.Errorf("header-info: name %q device types %q depends %q", h.Name, h.DeviceTypes, h.DependsNames)
	}
}

// flip returns a copy of b with the byte at off inverted.
func flip(b []byte, off int64) []byte {
	c := bytes.Clone(b)
	c[off] ^= 0xff
	return c
}

func TestRefusesTampering(t *testing.T) {
	f := getFixture(t)
	none := f.read(t, "rootfs-none-rsa")
	gz := f.read(t, "rootfs-gzip-rsa")
	unsigned := f.read(t, "rootfs-none-unsigned")
	mod := f.read(t, "module-gzip-ec")
	ms := members(t, none)
	withExtra := writeTar(t, slices.Insert(slices.Clone(ms), 4, member{name: "extra", data: []byte("x")}))
	trailing := writeTar(t, append(slices.Clone(ms), member{name: "data/0001.tar", data: ms[4].data}))
	noData := writeTar(t, ms[:4])
	augmented := writeTar(t, slices.Insert(slices.Clone(ms), 3, member{name: "manifest-augment", data: []byte("x")}))
	hdr := memberAt(t, none, "header.tar")
	data := memberAt(t, none, "data/0000.tar")
	man := memberAt(t, none, "manifest")
	sig := memberAt(t, none, "manifest.sig")
	dev := map[string]string{"artifact_name": "rel-0", "ecg-fw.version": "1.0"}

	for _, tc := range []struct {
		name string
		art  []byte
		opt  Options
		want error
		// mender-artifact validate must refuse too (non-zero exit), with
		// this exit code when non-zero.
		menderRefuses bool
		menderCode    int
		pub           string
	}{
		{"payload byte", flip(none, data.start+512+1000), Options{Keys: f.rsaKeys}, ErrChecksum, true, 0, f.rsaPub},
		{"last payload byte", flip(none, data.start+512+int64(len(f.image))-1), Options{Keys: f.rsaKeys}, ErrChecksum, true, 0, f.rsaPub},
		{"header byte", flip(none, hdr.start+20), Options{Keys: f.rsaKeys}, ErrChecksum, true, 0, f.rsaPub},
		{"manifest byte", flip(none, man.start+3), Options{Keys: f.rsaKeys}, ErrSignature, true, 4, f.rsaPub},
		{"signature byte", flip(none, sig.start+10), Options{Keys: f.rsaKeys}, ErrSignature, true, 4, f.rsaPub},
		{"signature base64 char", swapB64(none, sig.start+10), Options{Keys: f.rsaKeys}, ErrSignature, true, 4, f.rsaPub},
		{"wrong key", none, Options{Keys: f.otherKeys}, ErrSignature, true, 4, f.otherPub},
		{"wrong key type", mod, Options{Keys: f.rsaKeys}, ErrSignature, true, 4, f.rsaPub},
		{"unsigned with keys", unsigned, Options{Keys: f.rsaKeys}, ErrUnsigned, true, 4, f.rsaPub},
		{"unsigned with keys and AllowUnsigned", unsigned, Options{Keys: f.rsaKeys, AllowUnsigned: true}, ErrUnsigned, true, 4, f.rsaPub},
		{"no keys, unsigned not allowed", unsigned, Options{}, ErrNoKeys, false, 0, ""},
		{"wrong device type", none, Options{Keys: f.rsaKeys, DeviceType: "infusion-pump"}, ErrDeviceType, false, 0, ""},
		{"device type not set", none, Options{Keys: f.rsaKeys}, ErrDeviceType, false, 0, ""},
		{"unmet artifact_name depends", mod, Options{Keys: f.ecKeys, DeviceType: "bedside-a", Provides: map[string]string{"artifact_name": "rel-9", "ecg-fw.version": "1.0"}}, ErrDepends, false, 0, ""},
		{"unmet type-info depends", mod, Options{Keys: f.ecKeys, DeviceType: "bedside-a", Provides: map[string]string{"artifact_name": "rel-0", "ecg-fw.version": "0.9"}}, ErrDepends, false, 0, ""},
		{"unexpected member", withExtra, Options{Keys: f.rsaKeys}, ErrUnexpectedMember, true, 0, f.rsaPub},
		// Deliberately stricter than mender-artifact 3.9, whose validate
		// ignores a data member that header-info does not announce.
		{"member after last payload", trailing, Options{Keys: f.rsaKeys}, ErrUnexpectedMember, false, 0, f.rsaPub},
		{"data member missing", noData, Options{Keys: f.rsaKeys}, ErrTruncated, true, 0, f.rsaPub},
		{"augmented", augmented, Options{Keys: f.rsaKeys}, ErrAugmented, true, 0, f.rsaPub},
		{"gzip payload byte", flip(gz, memberAt(t, gz, "data/0000.tar.gz").start+5000), Options{Keys: f.rsaKeys}, nil, true, 0, f.rsaPub},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opt := tc.opt
			if opt.DeviceType == "" && !errors.Is(tc.want, ErrDeviceType) {
				opt.DeviceType, opt.Provides = "bedside-a", dev
				if opt.Provides == nil {
					opt.Provides = dev
				}
			}
			_, _, err := readAll(tc.art, opt)
			if err == nil {
				t.Fatal("accepted")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("error %q, want %q", err, tc.want)
			}
			t.Logf("refused: %v", err)
			if tc.menderRefuses {
				code := validate(t, tc.art, tc.pub)
				if code == 0 {
					t.Errorf("mender-artifact validate accepts what we refuse")
				}
				if tc.menderCode != 0 && code != tc.menderCode {
					t.Errorf("mender-artifact validate exit %d, want %d", code, tc.menderCode)
				}
			}
		})
	}
}

func TestRefusesTruncation(t *testing.T) {
	f := getFixture(t)
	for _, art := range []string{"rootfs-none-rsa", "rootfs-gzip-rsa", "module-gzip-ec"} {
		b := f.read(t, art)
		keys := slices.Concat(f.rsaKeys, f.ecKeys)
		var offs []int
		for off := 0; off < len(b); off += len(b)/97 + 1 {
			offs = append(offs, off)
		}
		for _, m := range members(t, b) {
			offs = append(offs, int(m.start)-512, int(m.start), int(m.start)+len(m.data))
		}
		offs = append(offs, len(b)-1, len(b)-512, len(b)-1024)
		for _, off := range offs {
			if off < 0 || off >= len(b) {
				continue
			}
			_, _, err := readAll(b[:off], Options{Keys: keys, SkipCompatibility: true})
			if !errors.Is(err, ErrTruncated) {
				t.Errorf("%s cut at %d of %d: error %v, want ErrTruncated", art, off, len(b), err)
			}
		}
		// mender-artifact agrees on a few of them.
		for _, off := range []int{len(b) / 3, len(b) / 2, len(b) - 2000} {
			if code := validate(t, b[:off], pubFor(f, art)); code == 0 {
				t.Errorf("%s cut at %d: mender-artifact validate accepts it", art, off)
			}
		}
	}
}

// swapB64 replaces the base64 character at off with another valid one.
func swapB64(b []byte, off int64) []byte {
	c := bytes.Clone(b)
	if c[off] == 'A' {
		c[off] = 'B'
	} else {
		c[off] = 'A'
	}
	return c
}
