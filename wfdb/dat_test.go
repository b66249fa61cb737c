package wfdb

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type frame struct {
	V  []int
	OK []bool
}

var datCases = []struct {
	name   string
	format int
	nsig   int
	data   []byte
	want   []frame
	err    error // error after the frames in want
}{
	{
		// FACTS: s0 = b0 | (b1&0x0F)<<8, s1 = b2 | (b1&0xF0)<<4.
		name: "212 two signals", format: 212, nsig: 2,
		data: []byte{0xE3, 0x33, 0xF3, 0xFF, 0x8F, 0x00},
		want: []frame{{[]int{995, 1011}, []bool{true, true}}, {[]int{-1, -2048 + 0}, []bool{true, false}}},
	},
	{
		name: "212 negative and positive extremes", format: 212, nsig: 2,
		data: []byte{0xFF, 0x87, 0x01},
		want: []frame{{[]int{2047, -2047}, []bool{true, true}}},
	},
	{
		name: "212 one signal odd final sample in two bytes", format: 212, nsig: 1,
		data: []byte{0x01, 0x00, 0x02, 0x03, 0x00},
		want: []frame{{[]int{1}, []bool{true}}, {[]int{2}, []bool{true}}, {[]int{3}, []bool{true}}},
	},
	{
		name: "212 ends inside frame", format: 212, nsig: 2,
		data: []byte{0x01, 0x00, 0x02, 0x03, 0x00},
		want: []frame{{[]int{1, 2}, []bool{true, true}}},
		err:  ErrTruncated,
	},
	{
		name: "212 stray byte", format: 212, nsig: 2,
		data: []byte{0x01, 0x00, 0x02, 0x07},
		want: []frame{{[]int{1, 2}, []bool{true, true}}},
		err:  ErrTruncated,
	},
	{
		name: "16 two signals with invalid", format: 16, nsig: 2,
		data: []byte{0x59, 0xFF, 0x99, 0xFF, 0x00, 0x80, 0xFF, 0x7F},
		want: []frame{{[]int{-167, -103}, []bool{true, true}}, {[]int{0, 32767}, []bool{false, true}}},
	},
	{
		name: "16 odd byte", format: 16, nsig: 1,
		data: []byte{0x01, 0x00, 0x02},
		want: []frame{{[]int{1}, []bool{true}}},
		err:  ErrTruncated,
	},
	{name: "empty", format: 16, nsig: 1},
}

func readAll(t testing.TB, sr *SignalReader, nsig int) ([]frame, error) {
	var out []frame
	for {
		v, ok := make([]int, nsig), make([]bool, nsig)
		err := sr.ReadFrame(v, ok)
		if err != nil {
			return out, err
		}
		for i := range ok {
			if !ok[i] && v[i] != 0 {
				t.Fatalf("invalid sample carries value %d", v[i])
			}
		}
		out = append(out, frame{v, ok})
		if len(out) > 1<<20 {
			t.Fatal("runaway reader")
		}
	}
}

func TestSignalReader(t *testing.T) {
	for _, tc := range datCases {
		t.Run(tc.name, func(t *testing.T) {
			sr, err := NewSignalReader(bytes.NewReader(tc.data), "t.dat", tc.format, tc.nsig)
			if err != nil {
				t.Fatal(err)
			}
			got, err := readAll(t, sr, tc.nsig)
			want := tc.want
			// Invalid samples read back as 0 with valid false.
			for _, f := range want {
				for i := range f.OK {
					if !f.OK[i] {
						f.V[i] = 0
					}
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("frames (-want +got):\n%s", diff)
			}
			if tc.err == nil {
				if err != io.EOF {
					t.Errorf("end error = %v, want io.EOF", err)
				}
			} else if !errors.Is(err, tc.err) {
				t.Errorf("end error = %v, want %v", err, tc.err)
			}
		})
	}
}

func TestSignalReaderRejects(t *testing.T) {
	if _, err := NewSignalReader(bytes.NewReader(nil), "x.dat", 80, 1); !errors.Is(err, ErrUnsupported) {
		t.Errorf("format 80: %v, want ErrUnsupported", err)
	}
	if _, err := NewSignalReader(bytes.NewReader(nil), "x.dat", 16, 0); !errors.Is(err, ErrFormat) {
		t.Errorf("0 signals: %v, want ErrFormat", err)
	}
	sr, _ := NewSignalReader(bytes.NewReader([]byte{1, 2, 3, 4}), "x.dat", 16, 2)
	if err := sr.ReadFrame(make([]int, 1), make([]bool, 1)); err == nil {
		t.Error("short caller buffers accepted")
	}
}

func FuzzDat212(f *testing.F) {
	for _, tc := range datCases {
		if tc.format == 212 {
			f.Add(tc.data, uint8(tc.nsig))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, nsig uint8) {
		n := int(nsig%4) + 1
		sr, err := NewSignalReader(bytes.NewReader(data), "fuzz.dat", 212, n)
		if err != nil {
			t.Fatal(err)
		}
		frames, err := readAll(t, sr, n)
		if err == nil {
			t.Fatal("reader ended without error")
		}
		// Every 3 bytes hold 2 samples; a clean end consumed all bytes.
		samples := len(frames) * n
		if err == io.EOF && samples != len(data)/3*2+(len(data)%3)/2 {
			t.Fatalf("clean EOF after %d samples from %d bytes", samples, len(data))
		}
		for _, fr := range frames {
			for _, v := range fr.V {
				if v < -2048 || v > 2047 {
					t.Fatalf("sample %d outside 12 bits", v)
				}
			}
		}
	})
}

func TestReadFrameDoesNotAllocate(t *testing.T) {
	data := bytes.Repeat([]byte{0xE3, 0x33, 0xF3}, 100000)
	sr, err := NewSignalReader(bytes.NewReader(data), "a.dat", 212, 2)
	if err != nil {
		t.Fatal(err)
	}
	v, ok := make([]int, 2), make([]bool, 2)
	allocs := testing.AllocsPerRun(1000, func() {
		if err := sr.ReadFrame(v, ok); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per frame, want 0", allocs)
	}
	if v[0] != 995 || v[1] != 1011 {
		t.Errorf("frame %v, want [995 1011]", v)
	}
}
