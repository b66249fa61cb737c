package nonin_test

import (
	"bytes"
	"testing"

	"medagent/sensors/nonin"
)

// packetBytes encodes one 25-frame packet; status applies to every frame
// and the first frame gets SYNC.
func packetBytes(hr, spo2 int, status uint8, pleth uint8) []byte {
	data := nonin.PacketData(hr, spo2, 0x41)
	var out []byte
	for i := 0; i < nonin.FramesPerPacket; i++ {
		st := status
		if i == 0 {
			st |= nonin.StatusSync
		}
		f := make([]byte, 5)
		nonin.Encode(f, st, pleth+uint8(i), data[i])
		out = append(out, f...)
	}
	return out
}

type result struct {
	frames, packets int
	last            nonin.Packet
	stats           nonin.Stats
}

func run(in []byte) result {
	var d nonin.Decoder
	var r result
	for len(in) > 0 {
		n, ok := d.Feed(in)
		in = in[n:]
		if ok {
			r.frames++
			if d.PacketReady() {
				r.packets++
				r.last = *d.Packet()
			}
		}
	}
	r.stats = d.Stats()
	return r
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// decoderCases are shared with FuzzNoninDecoder as seeds.
var decoderCases = []struct {
	name            string
	in              []byte
	frames, packets int
	hr, spo2        int
	bad, incomplete uint64
	skippedAtLeast  uint64
}{
	{"one packet", packetBytes(72, 97, nonin.PerfusionGreen, 100), 25, 1, 72, 97, 0, 0, 0},
	{"HR above 127 uses the MSB", packetBytes(201, 88, 0, 0), 25, 1, 201, 88, 0, 0, 0},
	{"missing values", packetBytes(nonin.HRMissing, nonin.SpO2Missing, nonin.StatusSNSD|nonin.StatusOOT, 0),
		25, 1, nonin.HRMissing, nonin.SpO2Missing, 0, 0, 0},
	{"leading garbage", cat([]byte{0xFF, 0x00, 0x01, 0x33}, packetBytes(60, 95, 0, 5)), 25, 1, 60, 95, 0, 0, 4},
	{"starts mid-packet", cat(packetBytes(70, 90, 0, 0)[5*10:], packetBytes(71, 91, 0, 0)), 40, 1, 71, 91, 0, 0, 0},
	{"bad checksum drops the packet", func() []byte {
		b := cat(packetBytes(80, 96, 0, 0), packetBytes(81, 97, 0, 0))
		b[5*3+4] ^= 0xFF // frame 4 of packet 1
		return b
	}(), 49, 1, 81, 97, 1, 1, 1},
	{"truncated packet then sync", cat(packetBytes(66, 94, 0, 0)[:5*12], packetBytes(67, 95, 0, 0)), 37, 1, 67, 95, 0, 1, 0},
	{"empty", nil, 0, 0, 0, 0, 0, 0, 0},
	// 01 80 01 80 01 looks like a frame start every other byte: 18 failed checksums.
	{"only noise", bytes.Repeat([]byte{0x01, 0x80}, 20), 0, 0, 0, 0, 18, 0, 36},
}

func TestDecoder(t *testing.T) {
	for _, tc := range decoderCases {
		t.Run(tc.name, func(t *testing.T) {
			r := run(tc.in)
			if r.frames != tc.frames || r.packets != tc.packets {
				t.Fatalf("frames=%d packets=%d, want %d, %d (stats %+v)", r.frames, r.packets, tc.frames, tc.packets, r.stats)
			}
			if tc.packets > 0 {
				p := r.last
				if p.HR != tc.hr || p.SpO2 != tc.spo2 || p.EHR != tc.hr || p.HRD != tc.hr || p.EHRD != tc.hr ||
					p.ESpO2 != tc.spo2 || p.SpO2D != tc.spo2 || p.SpO2Fast != tc.spo2 || p.SpO2BB != tc.spo2 || p.SREV != 0x41 {
					t.Fatalf("packet %+v, want HR %d SpO2 %d everywhere", p, tc.hr, tc.spo2)
				}
			}
			if r.stats.BadChecksum != tc.bad || r.stats.Incomplete != tc.incomplete || r.stats.Skipped < tc.skippedAtLeast {
				t.Fatalf("stats %+v, want bad=%d incomplete=%d skipped>=%d", r.stats, tc.bad, tc.incomplete, tc.skippedAtLeast)
			}
		})
	}
}

func TestFrameFlags(t *testing.T) {
	var d nonin.Decoder
	b := make([]byte, 5)
	nonin.Encode(b, nonin.StatusSNSD|nonin.StatusARTF|nonin.StatusOOT|nonin.StatusSNSA|nonin.PerfusionRed|nonin.StatusSync, 7, 0)
	if _, ok := d.Feed(b); !ok {
		t.Fatal("frame not decoded")
	}
	f := d.Frame()
	if !f.Disconnected() || !f.Artifact() || !f.OutOfTrack() || !f.SensorAlarm() || f.Perfusion() != nonin.PerfusionRed || f.Pleth != 7 || f.Pos != 0 {
		t.Fatalf("frame %+v flags wrong", f)
	}
	nonin.Encode(b, nonin.PerfusionYellow, 9, 0)
	d.Feed(b)
	if f := d.Frame(); f.Disconnected() || f.Perfusion() != nonin.PerfusionYellow || f.Pos != 1 {
		t.Fatalf("second frame %+v", f)
	}
}

func TestFeedSplitAnywhere(t *testing.T) {
	in := cat([]byte{0x42}, packetBytes(75, 98, 0, 0), packetBytes(76, 99, 0, 0))
	for chunk := 1; chunk <= 7; chunk++ {
		var d nonin.Decoder
		frames, packets := 0, 0
		for off := 0; off < len(in); off += chunk {
			part := in[off:min(off+chunk, len(in))]
			for len(part) > 0 {
				n, ok := d.Feed(part)
				part = part[n:]
				if ok {
					frames++
					if d.PacketReady() {
						packets++
					}
				}
			}
		}
		if frames != 50 || packets != 2 || d.Packet().HR != 76 {
			t.Fatalf("chunk %d: frames=%d packets=%d HR=%d", chunk, frames, packets, d.Packet().HR)
		}
	}
}

func TestDecoderDoesNotAllocate(t *testing.T) {
	in := packetBytes(72, 97, 0, 0)
	var d nonin.Decoder
	if n := testing.AllocsPerRun(100, func() {
		for p := in; len(p) > 0; {
			n, _ := d.Feed(p)
			p = p[n:]
		}
	}); n != 0 {
		t.Fatalf("Feed allocates %v times per packet", n)
	}
}

func FuzzNoninDecoder(f *testing.F) {
	for _, tc := range decoderCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var d nonin.Decoder
		frames := 0
		for p := in; len(p) > 0; {
			n, ok := d.Feed(p)
			if n <= 0 || n > len(p) {
				t.Fatalf("Feed consumed %d of %d", n, len(p))
			}
			p = p[n:]
			if ok {
				frames++
				f := d.Frame()
				if f.Status&nonin.StatusAlways1 == 0 || f.Pos < -1 || f.Pos >= nonin.FramesPerPacket {
					t.Fatalf("accepted frame %+v", f)
				}
			}
			if d.PacketReady() {
				pk := d.Packet()
				if pk.HR < 0 || pk.HR > 511 || pk.SpO2 < 0 || pk.SpO2 > 127 {
					t.Fatalf("packet out of range %+v", pk)
				}
			}
		}
		st := d.Stats()
		if st.Frames != uint64(frames) || st.Frames*5+st.Skipped > uint64(len(in)) {
			t.Fatalf("stats %+v inconsistent with %d frames from %d bytes", st, frames, len(in))
		}
	})
}
