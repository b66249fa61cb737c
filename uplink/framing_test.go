package uplink

import (
	"errors"
	"testing"
)

var frameCases = []struct {
	name   string
	stream string
	max    int
	want   error
}{
	{"connack", "\x20\x02\x00\x00", 16, nil},
	{"pingresp", "\xd0\x00", 16, nil},
	{"two packets", "\x20\x02\x00\x00\x40\x02\x00\x01", 16, nil},
	{"exactly max", "\x30\x10" + string(make([]byte, 16)), 16, nil},
	{"one over max", "\x30\x11", 16, ErrPacketTooLarge},
	{"second packet over", "\x20\x02\x00\x00\x30\x11", 16, ErrPacketTooLarge},
	{"256 MiB", "\x30\xff\xff\xff\x7f", 256 << 10, ErrPacketTooLarge},
	{"two-byte length fits", "\x30\x80\x01" + string(make([]byte, 128)), 256, nil},
	{"five length bytes", "\x30\x80\x80\x80\x80\x01", 256 << 10, errMalformedLength},
	{"partial header", "\x30", 16, nil},
	{"partial body", "\x30\x05\x00", 16, nil},
}

func TestFrameGuard(t *testing.T) {
	for _, c := range frameCases {
		t.Run(c.name, func(t *testing.T) {
			// Whole, and one byte at a time: the same answer.
			for _, split := range []int{len(c.stream) + 1, 1, 2} {
				g := frameGuard{max: c.max}
				var err error
				b := []byte(c.stream)
				for len(b) > 0 && err == nil {
					n := min(split, len(b))
					err = g.scan(b[:n])
					b = b[n:]
				}
				if !errors.Is(err, c.want) {
					t.Errorf("split %d: err = %v, want %v", split, err, c.want)
				}
			}
		})
	}
}

// FuzzFrameGuard checks the guard against a plain reading of the same
// stream: it fails exactly when a packet announces more than max bytes or
// a length runs over 4 bytes, however the stream is split.
func FuzzFrameGuard(f *testing.F) {
	for _, c := range frameCases {
		f.Add([]byte(c.stream), uint16(c.max), uint8(3))
	}
	f.Fuzz(func(t *testing.T, stream []byte, max uint16, split uint8) {
		want := refScan(stream, int(max))
		g := frameGuard{max: int(max)}
		step := int(split%16) + 1
		var err error
		for b := stream; len(b) > 0 && err == nil; {
			n := min(step, len(b))
			err = g.scan(b[:n])
			b = b[n:]
		}
		if (err == nil) != (want == nil) || (err != nil && !errors.Is(err, want)) {
			t.Fatalf("guard: %v, reference: %v", err, want)
		}
	})
}

// refScan reads whole packets as the MQTT client does.
func refScan(b []byte, max int) error {
	for len(b) > 0 {
		b = b[1:]
		length, mult := 0, 1
		for i := 0; ; i++ {
			if len(b) == 0 {
				return nil
			}
			if i == 4 {
				return errMalformedLength
			}
			c := b[0]
			b = b[1:]
			length += int(c&0x7f) * mult
			mult *= 128
			if length > max {
				return ErrPacketTooLarge
			}
			if c&0x80 == 0 {
				break
			}
		}
		if length >= len(b) {
			return nil
		}
		b = b[length:]
	}
	return nil
}
