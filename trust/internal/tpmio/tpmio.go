// Package tpmio opens a TPM 2.0: the kernel's resource manager device
// (/dev/tpmrm0) on a device, or a simulator's socket in tests
// ("unix:/path" or "tcp:host:port", raw TPM command stream as swtpm's
// --server speaks it).
package tpmio

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/google/go-tpm/tpm2/transport"
	"github.com/google/go-tpm/tpm2/transport/linuxtpm"
)

// DefaultPath is the kernel TPM resource manager.
const DefaultPath = "/dev/tpmrm0"

// maxResponse bounds a TPM response (TPM 2.0 responses are a few KiB).
const maxResponse = 64 << 10

// Open opens the TPM at path.
func Open(path string) (transport.TPMCloser, error) {
	for _, nw := range []string{"unix", "tcp"} {
		if addr, ok := strings.CutPrefix(path, nw+":"); ok {
			c, err := net.DialTimeout(nw, addr, 5*time.Second)
			if err != nil {
				return nil, fmt.Errorf("tpmio: dial %s: %w", path, err)
			}
			return &stream{c: c}, nil
		}
	}
	t, err := linuxtpm.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tpmio: open %s: %w", path, err)
	}
	return t, nil
}

// stream sends TPM commands over a byte stream and reads each response by
// its header's size field (a stream read may return part of a response).
type stream struct {
	mu sync.Mutex
	c  net.Conn
}

func (s *stream) Send(cmd []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.c.SetDeadline(time.Now().Add(2 * time.Minute)) // key creation can be slow
	if _, err := s.c.Write(cmd); err != nil {
		return nil, fmt.Errorf("tpmio: send: %w", err)
	}
	var hdr [10]byte // tag(2) size(4) code(4)
	if _, err := io.ReadFull(s.c, hdr[:]); err != nil {
		return nil, fmt.Errorf("tpmio: read response header: %w", err)
	}
	n := binary.BigEndian.Uint32(hdr[2:6])
	if n < 10 || n > maxResponse {
		return nil, fmt.Errorf("tpmio: response size %d out of range", n)
	}
	rsp := make([]byte, n)
	copy(rsp, hdr[:])
	if _, err := io.ReadFull(s.c, rsp[10:]); err != nil {
		return nil, fmt.Errorf("tpmio: read response: %w", err)
	}
	return rsp, nil
}

func (s *stream) Close() error { return s.c.Close() }
