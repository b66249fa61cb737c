package spool

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"

	"medagent/telemetry"
)

// Frame layout (all integers little-endian):
//
//	0  magic   [4]byte  frameMagic, lets a reader resynchronise after damage
//	4  bodyLen uint32
//	8  crc     uint32   CRC-32C over bytes 0..7 and the body
//	12 body
//
// Plaintext body: streamLen u8 | stream | seq u64 | unix nanos i64 | payload.
// Encrypted body: nonce [12] | AES-256-GCM(plaintext body), with additional
// data class u8 | segment u64 | offset u64, so a frame copied to another
// place in the spool does not authenticate.
const (
	frameHeaderLen = 12
	nonceLen       = 12
	tagLen         = 16
	adLen          = 17
	// MaxPayload is the largest payload Append accepts.
	MaxPayload = 1 << 20
	// MaxStreamLen is the longest stream name Append accepts.
	MaxStreamLen = 255
	plainFixed   = 1 + 8 + 8
	maxBody      = plainFixed + MaxStreamLen + MaxPayload + nonceLen + tagLen
)

var frameMagic = [4]byte{0xd5, 'S', 'F', '1'}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var (
	// errIncomplete means the bytes end before the frame does: a tail
	// still being written, or torn by a crash.
	errIncomplete = errors.New("incomplete frame")
	// errCorrupt means the bytes at this offset are not a valid frame.
	errCorrupt = errors.New("corrupt frame")
)

// entry is the decoded content of one frame.
type entry struct {
	Stream  string
	Seq     uint64
	Time    time.Time
	Payload []byte
}

// frameLen is the on-disk size of a frame for the given content sizes.
func frameLen(streamLen, payloadLen int, encrypted bool) int {
	n := frameHeaderLen + plainFixed + streamLen + payloadLen
	if encrypted {
		n += nonceLen + tagLen
	}
	return n
}

// frameAD is the additional data binding an encrypted frame to its place.
func frameAD(dst *[adLen]byte, class telemetry.Class, segment uint64, offset int64) []byte {
	dst[0] = byte(class)
	binary.LittleEndian.PutUint64(dst[1:9], segment)
	binary.LittleEndian.PutUint64(dst[9:17], uint64(offset))
	return dst[:]
}

// appendFrame appends the encoded frame to dst. aead may be nil (plaintext).
// ad is only used with aead.
func appendFrame(dst []byte, e entry, aead cipher.AEAD, ad []byte) ([]byte, error) {
	if len(e.Stream) == 0 || len(e.Stream) > MaxStreamLen {
		return dst, fmt.Errorf("spool: frame: stream length %d out of range 1..%d", len(e.Stream), MaxStreamLen)
	}
	if len(e.Payload) > MaxPayload {
		return dst, fmt.Errorf("spool: frame: payload %d bytes exceeds %d", len(e.Payload), MaxPayload)
	}
	start := len(dst)
	dst = append(dst, frameMagic[:]...)
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0) // bodyLen, crc
	bodyStart := len(dst)
	if aead != nil {
		var nonce [nonceLen]byte
		if _, err := rand.Read(nonce[:]); err != nil {
			return dst[:start], fmt.Errorf("spool: frame: nonce: %w", err)
		}
		dst = append(dst, nonce[:]...)
	}
	plainStart := len(dst)
	dst = append(dst, byte(len(e.Stream)))
	dst = append(dst, e.Stream...)
	dst = binary.LittleEndian.AppendUint64(dst, e.Seq)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(e.Time.UnixNano()))
	dst = append(dst, e.Payload...)
	if aead != nil {
		nonce := dst[bodyStart:plainStart]
		plain := dst[plainStart:]
		// Seal in place: the ciphertext overwrites the plaintext and the
		// tag extends the slice.
		dst = aead.Seal(dst[:plainStart], nonce, plain, ad)
	}
	body := dst[bodyStart:]
	binary.LittleEndian.PutUint32(dst[start+4:], uint32(len(body)))
	crc := crc32.Update(0, castagnoli, dst[start:start+8])
	crc = crc32.Update(crc, castagnoli, body)
	binary.LittleEndian.PutUint32(dst[start+8:], crc)
	return dst, nil
}

// parseFrame checks the frame at the start of b and returns its body and
// total length. It returns errIncomplete when b ends inside the frame and
// errCorrupt when the magic, length or checksum is wrong.
func parseFrame(b []byte) (body []byte, n int, err error) {
	if len(b) < frameHeaderLen {
		// A prefix of the magic could still become a frame.
		if !magicPrefix(b) {
			return nil, 0, errCorrupt
		}
		return nil, 0, errIncomplete
	}
	if [4]byte(b[0:4]) != frameMagic {
		return nil, 0, errCorrupt
	}
	bodyLen := binary.LittleEndian.Uint32(b[4:8])
	if bodyLen < plainFixed+1 || bodyLen > maxBody {
		return nil, 0, errCorrupt
	}
	n = frameHeaderLen + int(bodyLen)
	if len(b) < n {
		return nil, 0, errIncomplete
	}
	crc := crc32.Update(0, castagnoli, b[0:8])
	crc = crc32.Update(crc, castagnoli, b[frameHeaderLen:n])
	if crc != binary.LittleEndian.Uint32(b[8:12]) {
		return nil, 0, errCorrupt
	}
	return b[frameHeaderLen:n], n, nil
}

func magicPrefix(b []byte) bool {
	for i := 0; i < len(b) && i < len(frameMagic); i++ {
		if b[i] != frameMagic[i] {
			return false
		}
	}
	return true
}

// decodeBody decodes a frame body. With aead it decrypts into scratch
// (reused when large enough) and the returned Payload aliases scratch or
// body; callers copy it before handing it out.
func decodeBody(body []byte, aead cipher.AEAD, ad []byte, scratch []byte) (entry, []byte, error) {
	plain := body
	if aead != nil {
		if len(body) < nonceLen+tagLen+plainFixed+1 {
			return entry{}, scratch, fmt.Errorf("spool: frame: %w: short ciphertext", errCorrupt)
		}
		var err error
		plain, err = aead.Open(scratch[:0], body[:nonceLen], body[nonceLen:], ad)
		if err != nil {
			return entry{}, scratch, fmt.Errorf("spool: frame: %w: authentication failed", errCorrupt)
		}
		scratch = plain
	}
	if len(plain) < plainFixed+1 {
		return entry{}, scratch, fmt.Errorf("spool: frame: %w: short body", errCorrupt)
	}
	sl := int(plain[0])
	if sl == 0 || len(plain) < 1+sl+16 {
		return entry{}, scratch, fmt.Errorf("spool: frame: %w: bad stream length %d", errCorrupt, sl)
	}
	e := entry{Stream: string(plain[1 : 1+sl])}
	p := plain[1+sl:]
	e.Seq = binary.LittleEndian.Uint64(p[0:8])
	e.Time = time.Unix(0, int64(binary.LittleEndian.Uint64(p[8:16])))
	e.Payload = p[16:]
	if e.Seq == 0 {
		return entry{}, scratch, fmt.Errorf("spool: frame: %w: seq 0", errCorrupt)
	}
	return e, scratch, nil
}
