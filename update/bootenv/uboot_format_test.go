package bootenv

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// rawEnv builds a copy by hand (not with EncodeUBoot) so the decoder is
// checked against the format, not against our own encoder.
func rawEnv(size int, redundant bool, flag byte, data string) []byte {
	h := headerSize(redundant)
	b := make([]byte, size)
	copy(b[h:], data)
	if redundant {
		b[4] = flag
	}
	binary.LittleEndian.PutUint32(b, crc32.ChecksumIEEE(b[h:]))
	return b
}

type parseCase struct {
	name      string
	in        []byte
	redundant bool
	want      map[string]string
	flag      byte
	err       error
}

func parseCases() []parseCase {
	badCRC := rawEnv(64, false, 0, "a=1\x00\x00")
	badCRC[0] ^= 1
	return []parseCase{
		{name: "single", in: rawEnv(64, false, 0, "a=1\x00bootcmd=run x; run y\x00\x00"), want: map[string]string{"a": "1", "bootcmd": "run x; run y"}},
		{name: "redundant", in: rawEnv(64, true, 7, "upgrade_available=1\x00\x00"), redundant: true, flag: 7, want: map[string]string{"upgrade_available": "1"}},
		{name: "empty", in: rawEnv(16, false, 0, "\x00"), want: map[string]string{}},
		{name: "value with =", in: rawEnv(64, false, 0, "k=a=b\x00\x00"), want: map[string]string{"k": "a=b"}},
		{name: "entry without = skipped", in: rawEnv(64, false, 0, "junk\x00k=v\x00=x\x00\x00"), want: map[string]string{"k": "v"}},
		{name: "later duplicate wins", in: rawEnv(64, false, 0, "k=1\x00k=2\x00\x00"), want: map[string]string{"k": "2"}},
		{name: "bad crc", in: badCRC, err: ErrBadCRC},
		{name: "unterminated", in: rawEnv(8, false, 0, "abcd"), err: ErrFormat},
		{name: "too short", in: []byte{1, 2, 3}, err: ErrFormat},
	}
}

func TestParseUBoot(t *testing.T) {
	for _, tc := range parseCases() {
		t.Run(tc.name, func(t *testing.T) {
			img, err := ParseUBoot(tc.in, tc.redundant)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, img.Vars); d != "" {
				t.Errorf("vars (-want +got):\n%s", d)
			}
			if img.Flag != tc.flag {
				t.Errorf("flag = %d, want %d", img.Flag, tc.flag)
			}
		})
	}
}

func TestEncodeUBoot(t *testing.T) {
	got, err := EncodeUBoot(map[string]string{"b": "2", "a": "1"}, 32, true, 3)
	if err != nil {
		t.Fatal(err)
	}
	if want := rawEnv(32, true, 3, "a=1\x00b=2\x00\x00"); string(got) != string(want) {
		t.Errorf("got % x\nwant % x", got, want)
	}
	// Exactly full: 4 header + "a=12\0" (5) + terminator = 10.
	if _, err := EncodeUBoot(map[string]string{"a": "12"}, 10, false, 0); err != nil {
		t.Errorf("exact fit: %v", err)
	}
	if _, err := EncodeUBoot(map[string]string{"a": "123"}, 10, false, 0); !errors.Is(err, ErrTooLarge) {
		t.Errorf("one byte over: err = %v, want ErrTooLarge", err)
	}
	for _, name := range []string{"", "a=b", "a\x00"} {
		if _, err := EncodeUBoot(map[string]string{name: "1"}, 64, false, 0); !errors.Is(err, ErrFormat) {
			t.Errorf("name %q: err = %v, want ErrFormat", name, err)
		}
	}
}

func TestCurrentCopy(t *testing.T) {
	both := [2]bool{true, true}
	for _, tc := range []struct {
		name  string
		ok    [2]bool
		flags [2]byte
		mode  FlagMode
		want  int
		err   bool
	}{
		{"only 0 valid", [2]bool{true, false}, [2]byte{1, 9}, FlagIncremental, 0, false},
		{"only 1 valid", [2]bool{false, true}, [2]byte{9, 1}, FlagIncremental, 1, false},
		{"none valid", [2]bool{}, [2]byte{}, FlagIncremental, 0, true},
		{"inc newer 1", both, [2]byte{4, 5}, FlagIncremental, 1, false},
		{"inc newer 0", both, [2]byte{6, 5}, FlagIncremental, 0, false},
		{"inc equal", both, [2]byte{5, 5}, FlagIncremental, 0, false},
		{"inc wrap to 1", both, [2]byte{255, 0}, FlagIncremental, 1, false},
		{"inc wrap to 0", both, [2]byte{0, 255}, FlagIncremental, 0, false},
		{"bool active 1", both, [2]byte{0, 1}, FlagBoolean, 1, false},
		{"bool active 0", both, [2]byte{1, 0}, FlagBoolean, 0, false},
		{"bool erased 1", both, [2]byte{1, 0xFF}, FlagBoolean, 1, false},
		{"bool erased 0", both, [2]byte{0xFF, 1}, FlagBoolean, 0, false},
		{"bool obsolete lost", both, [2]byte{1, 1}, FlagBoolean, 0, false},
	} {
		got, err := current(tc.ok, tc.flags, tc.mode)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("%s: current = %d, %v; want %d, err %v", tc.name, got, err, tc.want, tc.err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, tc := range parseCases() {
		f.Add(tc.in, tc.redundant, false)
	}
	for _, tc := range grubCases() {
		f.Add([]byte(tc.in), false, true)
	}
	f.Fuzz(func(t *testing.T, b []byte, redundant, grub bool) {
		if grub {
			vars, err := ParseGrub(b)
			if err != nil {
				return
			}
			// Whatever parses must survive a round trip.
			enc, err := EncodeGrub(vars, len(b)+len(b)+64)
			if err != nil {
				if errors.Is(err, ErrFormat) {
					return // names GRUB accepts but we refuse to write
				}
				t.Fatalf("encode: %v", err)
			}
			again, err := ParseGrub(enc)
			if err != nil {
				t.Fatalf("reparse: %v", err)
			}
			if d := cmp.Diff(vars, again); d != "" {
				t.Fatalf("round trip (-first +second):\n%s", d)
			}
			return
		}
		img, err := ParseUBoot(b, redundant)
		if err != nil {
			return
		}
		enc, err := EncodeUBoot(img.Vars, len(b), redundant, img.Flag)
		if err != nil {
			if strings.Contains(err.Error(), "bad variable name") {
				t.Fatalf("parsed a name we cannot write: %v", err)
			}
			return // may not fit: duplicates and junk entries took space
		}
		again, err := ParseUBoot(enc, redundant)
		if err != nil {
			t.Fatalf("reparse: %v", err)
		}
		if d := cmp.Diff(img, again); d != "" {
			t.Fatalf("round trip (-first +second):\n%s", d)
		}
	})
}
