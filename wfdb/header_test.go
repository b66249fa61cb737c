package wfdb

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var headerCases = []struct {
	name string
	text string
	want *Header
	err  error
}{
	{
		name: "mitdb CRLF",
		text: "101 2 360 650000\r\n101.dat 212 200 11 1024 955 29832 0 MLII\r\n101.dat 212 200 11 1024 992 19589 0 V1\r\n# 75 F 1011 654 x1\r\n",
		want: &Header{Record: "101", Freq: 360, NumSamples: 650000, Comments: []string{"75 F 1011 654 x1"}, Signals: []Signal{
			{FileName: "101.dat", Format: 212, SamplesPerFrame: 1, Gain: 200, Baseline: 1024, Units: "mV", ADCRes: 11, ADCZero: 1024, InitValue: 955, Checksum: 29832, HasChecksum: true, Description: "MLII"},
			{FileName: "101.dat", Format: 212, SamplesPerFrame: 1, Gain: 200, Baseline: 1024, Units: "mV", ADCRes: 11, ADCZero: 1024, InitValue: 992, Checksum: 19589, HasChecksum: true, Description: "V1"},
		}},
	},
	{
		name: "nstdb baseline in gain, format 16",
		text: "118e00 1 360 650000\n118e00.dat 16 200(1024) 11 0 -167 29505 0 MLII\n",
		want: &Header{Record: "118e00", Freq: 360, NumSamples: 650000, Signals: []Signal{
			{FileName: "118e00.dat", Format: 16, SamplesPerFrame: 1, Gain: 200, Baseline: 1024, Units: "mV", ADCRes: 11, ADCZero: 0, InitValue: -167, Checksum: 29505, HasChecksum: true, Description: "MLII"},
		}},
	},
	{
		name: "gain 0 means 200, description with spaces, units",
		text: "bw 1 360 650000\nbw.dat 212 0/uV 12 0 -29 -3562 0 noise 1 a\n",
		want: &Header{Record: "bw", Freq: 360, NumSamples: 650000, Signals: []Signal{
			{FileName: "bw.dat", Format: 212, SamplesPerFrame: 1, Gain: 200, Units: "uV", ADCRes: 12, InitValue: -29, Checksum: -3562, HasChecksum: true, Description: "noise 1 a"},
		}},
	},
	{
		name: "defaults and modifiers",
		text: "# leading comment\nr 1 500/1000(3) 10 12:00:00 01/02/2000\nr.dat 16x1:0+512\n",
		want: &Header{Record: "r", Freq: 500, CounterFreq: 1000, BaseCounter: 3, NumSamples: 10, BaseTime: "12:00:00", BaseDate: "01/02/2000", Signals: []Signal{
			{FileName: "r.dat", Format: 16, SamplesPerFrame: 1, ByteOffset: 512, Gain: 200, Units: "mV", ADCRes: 16},
		}},
	},
	{name: "default frequency", text: "r 0\n", want: &Header{Record: "r", Freq: 250}},
	{name: "empty", text: "", err: ErrFormat},
	{name: "only comments", text: "# x\n\n", err: ErrFormat},
	{name: "no signal count", text: "r\n", err: ErrFormat},
	{name: "bad signal count", text: "r x\n", err: ErrFormat},
	{name: "too many signals", text: "r 65\n", err: ErrFormat},
	{name: "missing signal line", text: "r 2 360\nr.dat 212\n", err: ErrFormat},
	{name: "extra signal line", text: "r 1 360\nr.dat 212\nr.dat 212\n", err: ErrFormat},
	{name: "multi-segment", text: "r/2 1 360\n", err: ErrUnsupported},
	{name: "bad frequency", text: "r 1 -5\n", err: ErrFormat},
	{name: "bad gain", text: "r 1 360\nr.dat 212 abc\n", err: ErrFormat},
	{name: "unclosed baseline", text: "r 1 360\nr.dat 212 200(5\n", err: ErrFormat},
	{name: "bad format", text: "r 1 360\nr.dat x212\n", err: ErrFormat},
	{name: "bad checksum", text: "r 1 360\nr.dat 212 200 12 0 0 zz\n", err: ErrFormat},
	{name: "no format", text: "r 1 360\nr.dat\n", err: ErrFormat},
}

func TestParseHeader(t *testing.T) {
	for _, tc := range headerCases {
		t.Run(tc.name, func(t *testing.T) {
			h, err := ParseHeader(strings.NewReader(tc.text), "t.hea")
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("error = %v, want %v", err, tc.err)
				}
				if !strings.Contains(err.Error(), "t.hea") {
					t.Errorf("error %q does not name the file", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, h); diff != "" {
				t.Errorf("header mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPhysical(t *testing.T) {
	s := Signal{Gain: 200, Baseline: 1024}
	if got := s.Physical(1224); got != 1 {
		t.Errorf("Physical(1224) = %v, want 1 mV", got)
	}
}

func FuzzHeader(f *testing.F) {
	for _, tc := range headerCases {
		f.Add(tc.text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		h, err := ParseHeader(strings.NewReader(text), "fuzz.hea")
		if err != nil {
			if h != nil {
				t.Fatal("header returned with error")
			}
			return
		}
		for _, s := range h.Signals {
			if !(s.Gain > 0) {
				t.Fatalf("accepted non-positive gain %v", s.Gain)
			}
		}
		if !(h.Freq > 0) {
			t.Fatalf("accepted frequency %v", h.Freq)
		}
	})
}
