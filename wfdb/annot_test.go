package wfdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// words builds annotation bytes; a string element is an AUX payload.
func words(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch v := p.(type) {
		case int:
			b = binary.LittleEndian.AppendUint16(b, uint16(v))
		case string:
			b = append(b, v...)
			if len(v)%2 == 1 {
				b = append(b, 0)
			}
		}
	}
	return b
}

func w(code, val int) int { return code<<10 | val }

var annCases = []struct {
	name string
	data []byte
	want []Annotation
	err  error
}{
	{
		name: "beats with rhythm aux, sub, chn, num",
		data: words(w(28, 18), w(63, 2), "(N", w(1, 77), w(5, 300), w(61, 2), w(62, 1), w(60, 5), w(1, 290), 0),
		want: []Annotation{
			{Sample: 18, Code: 28, Aux: "(N"},
			{Sample: 95, Code: 1},
			{Sample: 395, Code: 5, Subtype: 2, Chan: 1, Num: 5},
			{Sample: 685, Code: 1, Chan: 1, Num: 5},
		},
	},
	{
		name: "odd aux padded",
		data: words(w(28, 1), w(63, 5), "(VFL\x00", w(32, 2), w(63, 3), "abc", w(33, 1)),
		want: []Annotation{{Sample: 1, Code: 28, Aux: "(VFL"}, {Sample: 3, Code: 32, Aux: "abc"}, {Sample: 4, Code: 33}},
	},
	{
		name: "skip high word first",
		data: words(w(59, 0), 0x0001, 0x0002, w(1, 3), 0),
		want: []Annotation{{Sample: 65536 + 2 + 3, Code: 1}},
	},
	{
		name: "negative num and sub",
		data: words(w(1, 1), w(60, 0x3FF), w(61, 0x3FE)),
		want: []Annotation{{Sample: 1, Code: 1, Num: -1, Subtype: -2}},
	},
	{name: "empty", data: nil},
	{name: "end word only", data: words(0), want: nil},
	{name: "data after end word ignored", data: words(w(1, 5), 0, w(1, 5)), want: []Annotation{{Sample: 5, Code: 1}}},
	{name: "odd byte", data: []byte{1, 4, 9}, err: ErrTruncated},
	{name: "truncated aux", data: words(w(1, 1), w(63, 10), "abc"), err: ErrTruncated},
	{name: "truncated skip", data: words(w(59, 0), 1), err: ErrTruncated},
	{name: "modifier first", data: words(w(61, 1)), err: ErrFormat},
	{name: "undefined code", data: words(w(52, 1)), err: ErrFormat},
	{name: "negative time", data: words(w(59, 0), 0xFFFF, 0xFFF0, w(1, 1)), err: ErrFormat},
}

func TestReadAnnotations(t *testing.T) {
	for _, tc := range annCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadAnnotations(bytes.NewReader(tc.data), "t.atr")
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("error = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("annotations (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMnemonic(t *testing.T) {
	for code, want := range map[int]string{1: "N", 5: "V", 12: "/", 28: "+", 31: "!", 32: "[", 33: "]", 38: "f", 41: "r", 15: "[15]", 49: "[49]"} {
		if got := Mnemonic(code); got != want {
			t.Errorf("Mnemonic(%d) = %q, want %q", code, got, want)
		}
	}
}

func FuzzAnnotations(f *testing.F) {
	for _, tc := range annCases {
		f.Add(tc.data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		anns, err := ReadAnnotations(bytes.NewReader(data), "fuzz.atr")
		if err != nil {
			return
		}
		if len(anns) > len(data)/2 {
			t.Fatalf("%d annotations from %d bytes", len(anns), len(data))
		}
		for _, a := range anns {
			if a.Sample < 0 {
				t.Fatalf("negative sample %d", a.Sample)
			}
			if a.Code < 0 || a.Code > 49 {
				t.Fatalf("code %d out of range", a.Code)
			}
		}
	})
}
