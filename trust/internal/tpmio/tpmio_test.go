package tpmio

import (
	"encoding/binary"
	"net"
	"path/filepath"
	"strings"
	"testing"
)

// fakeTPM answers one command with rsp, written in two pieces to check
// that Send reads a response split across stream reads.
func fakeTPM(t *testing.T, rsp []byte) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "s")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 64)
		c.Read(buf)
		c.Write(rsp[:min(len(rsp), 7)])
		if len(rsp) > 7 {
			c.Write(rsp[7:])
		}
	}()
	return "unix:" + sock
}

func header(size uint32) []byte {
	b := make([]byte, 10)
	binary.BigEndian.PutUint16(b, 0x8001)
	binary.BigEndian.PutUint32(b[2:], size)
	return b
}

func TestStreamSend(t *testing.T) {
	ok := append(header(14), 1, 2, 3, 4)
	tp, err := Open(fakeTPM(t, ok))
	if err != nil {
		t.Fatal(err)
	}
	got, err := tp.Send([]byte{0x80, 0x01, 0, 0, 0, 10, 0, 0, 1, 0x7b})
	if err != nil || string(got) != string(ok) {
		t.Fatalf("Send = % x, %v; want % x", got, err, ok)
	}
	tp.Close()

	for name, rsp := range map[string][]byte{
		"size below header": header(4),
		"size too large":    header(1 << 30),
		"truncated":         append(header(20), 1, 2),
	} {
		tp, err := Open(fakeTPM(t, rsp))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tp.Send([]byte{0x80, 0x01, 0, 0, 0, 10, 0, 0, 1, 0x7b}); err == nil || !strings.HasPrefix(err.Error(), "tpmio:") {
			t.Errorf("%s: err %v, want a tpmio error", name, err)
		}
		tp.Close()
	}
	if _, err := Open("unix:" + filepath.Join(t.TempDir(), "none")); err == nil {
		t.Fatal("Open of a missing socket succeeded")
	}
}
