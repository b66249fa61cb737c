package nonin

// Status byte bits.
const (
	StatusAlways1        = 1 << 7
	StatusSNSD           = 1 << 6 // sensor disconnect
	StatusARTF           = 1 << 5 // artifact
	StatusOOT            = 1 << 4 // out of track
	StatusSNSA           = 1 << 3 // sensor alarm
	StatusPerfusion      = 3 << 1 // 01 green, 10 red, 11 yellow
	StatusSync           = 1 << 0 // frame 1 of a packet
	PerfusionGreen       = 1 << 1
	PerfusionRed         = 2 << 1
	PerfusionYellow      = 3 << 1
	FramesPerPacket      = 25
	FramesPerSecond      = 75
	FrameSize            = 5
	HRMissing            = 511
	SpO2Missing          = 127
	startByte       byte = 0x01
)

// Frame is one 5-byte frame.
type Frame struct {
	Status, Pleth, Data uint8
	// Pos is the frame's position in its packet (0..24), or -1 while the
	// decoder has not seen a SYNC frame since the last loss of alignment.
	Pos int
	// Lost estimates the frames lost just before this one: the bytes
	// skipped since the previous valid frame, in frames, rounded up.
	Lost int
}

// Disconnected and the other helpers decode the status flags.
func (f *Frame) Disconnected() bool { return f.Status&StatusSNSD != 0 }

// Artifact reports ARTF.
func (f *Frame) Artifact() bool { return f.Status&StatusARTF != 0 }

// OutOfTrack reports OOT.
func (f *Frame) OutOfTrack() bool { return f.Status&StatusOOT != 0 }

// SensorAlarm reports SNSA.
func (f *Frame) SensorAlarm() bool { return f.Status&StatusSNSA != 0 }

// Perfusion returns the perfusion bits (0 none, PerfusionGreen, ...).
func (f *Frame) Perfusion() uint8 { return f.Status & StatusPerfusion }

// Packet holds the numerics of one complete 25-frame packet.
type Packet struct {
	HR, EHR, HRD, EHRD            int // beats/min; HRMissing if none
	SpO2, SpO2D, SpO2Fast, SpO2BB int // %; SpO2Missing if none
	ESpO2, ESpO2D                 int
	SREV, Stat2                   uint8
	Pleth                         [FramesPerPacket]uint8
	Status                        [FramesPerPacket]uint8
}

// Stats counts what the decoder saw.
type Stats struct {
	Frames      uint64 // frames with a valid checksum
	Packets     uint64 // complete packets
	BadChecksum uint64 // aligned-looking frames whose checksum failed
	Skipped     uint64 // bytes dropped while searching for a frame
	Incomplete  uint64 // packets cut short by a loss or an early SYNC
}

// Decoder turns a byte stream into frames and packets. The zero value is
// ready to use.
type Decoder struct {
	win   [FrameSize]byte
	n     int
	pos   int // next frame position, -1 unknown
	valid bool
	pkt   Packet
	data  [FramesPerPacket]uint8
	frame Frame
	done  bool
	stats Stats
	init  bool
	skip  int // bytes skipped since the last valid frame
}

// Feed consumes bytes from p until one frame is complete or p is used up.
// It returns the bytes consumed and whether a frame is ready; the frame is
// then in Frame(), and PacketReady reports whether it completed a packet.
// Call Feed again with p[n:] for the rest.
func (d *Decoder) Feed(p []byte) (n int, ok bool) {
	if !d.init {
		d.pos, d.init = -1, true
	}
	d.done = false
	for n < len(p) {
		d.win[d.n] = p[n]
		d.n++
		n++
		if d.n < FrameSize {
			continue
		}
		if d.accept() {
			return n, true
		}
	}
	return n, false
}

// accept examines a full window: a valid frame is taken whole, anything
// else drops one byte and slides.
func (d *Decoder) accept() bool {
	w := &d.win
	if w[0] == startByte && w[1]&StatusAlways1 != 0 {
		if w[0]+w[1]+w[2]+w[3] == w[4] {
			d.n = 0
			d.take(w[1], w[2], w[3])
			return true
		}
		d.stats.BadChecksum++
	}
	d.lose()
	d.stats.Skipped++
	d.skip++
	copy(w[:], w[1:])
	d.n = FrameSize - 1
	return false
}

// lose forgets packet alignment after a damaged or skipped frame.
func (d *Decoder) lose() {
	if d.pos > 0 && d.valid {
		d.stats.Incomplete++
	}
	d.pos, d.valid = -1, false
}

func (d *Decoder) take(status, pleth, data uint8) {
	d.stats.Frames++
	if status&StatusSync != 0 {
		if d.pos > 0 && d.valid {
			d.stats.Incomplete++ // SYNC before 25 frames
		}
		d.pos, d.valid = 0, true
	} else if d.pos >= FramesPerPacket {
		d.pos, d.valid = -1, false // 26th frame without SYNC
	}
	d.frame = Frame{Status: status, Pleth: pleth, Data: data, Pos: d.pos, Lost: (d.skip + FrameSize - 1) / FrameSize}
	d.skip = 0
	if d.pos < 0 {
		return
	}
	d.data[d.pos] = data
	d.pkt.Pleth[d.pos] = pleth
	d.pkt.Status[d.pos] = status
	d.pos++
	if d.pos == FramesPerPacket && d.valid {
		d.finish()
		d.done = true
		d.stats.Packets++
	}
}

func hr(msb, lsb uint8) int { return int(msb&3)<<7 | int(lsb&0x7F) }

func (d *Decoder) finish() {
	b := &d.data // index = frame number - 1
	p := &d.pkt
	p.HR = hr(b[0], b[1])
	p.SpO2 = int(b[2] & 0x7F)
	p.SREV = b[3]
	p.Stat2 = b[7]
	p.SpO2D = int(b[8] & 0x7F)
	p.SpO2Fast = int(b[9] & 0x7F)
	p.SpO2BB = int(b[10] & 0x7F)
	p.EHR = hr(b[13], b[14])
	p.ESpO2 = int(b[15] & 0x7F)
	p.ESpO2D = int(b[16] & 0x7F)
	p.HRD = hr(b[19], b[20])
	p.EHRD = hr(b[21], b[22])
}

// Frame returns the last frame Feed reported.
func (d *Decoder) Frame() *Frame { return &d.frame }

// PacketReady reports whether the last frame completed a packet.
func (d *Decoder) PacketReady() bool { return d.done }

// Packet returns the last complete packet.
func (d *Decoder) Packet() *Packet { return &d.pkt }

// Stats returns the counters.
func (d *Decoder) Stats() Stats { return d.stats }

// Encode writes one frame into dst (len >= 5), computing the checksum. It
// is used by the simulator and tests.
func Encode(dst []byte, status, pleth, data uint8) {
	dst[0], dst[1], dst[2], dst[3] = startByte, status|StatusAlways1, pleth, data
	dst[4] = dst[0] + dst[1] + dst[2] + dst[3]
}

// PacketData returns the 25 data bytes of a packet carrying hr (beats/min,
// HRMissing for none), spo2 (%, SpO2Missing for none) and the firmware
// revision, with the same value in the standard, extended and display
// slots. It is used by the simulator and tests.
func PacketData(hr, spo2 int, srev uint8) [FramesPerPacket]uint8 {
	var b [FramesPerPacket]uint8
	msb, lsb := uint8(hr>>7&3), uint8(hr&0x7F)
	s := uint8(spo2 & 0x7F)
	b[0], b[1], b[2], b[3] = msb, lsb, s, srev
	b[8], b[9], b[10] = s, s, s
	b[13], b[14], b[15], b[16] = msb, lsb, s, s
	b[19], b[20], b[21], b[22] = msb, lsb, msb, lsb
	return b
}
