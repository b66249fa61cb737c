package hal_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"medagent/hal"
	"medagent/hal/buserr"

	"github.com/creack/pty"
)

var nonin8N1 = hal.SerialFraming{Baud: 9600, DataBits: 8, Parity: "none", StopBits: 1}

func TestSerialOverPTY(t *testing.T) {
	m, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("pty.Open: %v (needs /dev/ptmx)", err)
	}
	defer tty.Close()
	p, err := hal.OpenSerial(tty.Name(), nonin8N1, 200*time.Millisecond)
	if err != nil {
		m.Close()
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := m.Write([]byte{0x01, 0x81, 0x80, 0x00, 0x02}); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	got := 0
	for got < 5 {
		n, err := p.Read(buf[got:])
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatalf("read timed out after %d bytes", got)
		}
		got += n
	}
	if string(buf[:5]) != "\x01\x81\x80\x00\x02" {
		t.Fatalf("read %x; raw mode should pass bytes unchanged", buf[:5])
	}
	// Nothing more: a timeout reads as (0, nil).
	if n, err := p.Read(buf); n != 0 || err != nil {
		t.Fatalf("idle read = %d, %v", n, err)
	}
	// Unplug: closing the master hangs up the slave.
	m.Close()
	tty.Close()
	_, err = p.Read(buf)
	if !errors.Is(err, buserr.ErrDisconnected) || !strings.Contains(err.Error(), tty.Name()) {
		t.Fatalf("read after hang-up = %v, want ErrDisconnected naming %s", err, tty.Name())
	}
}

func TestOpenSerialErrors(t *testing.T) {
	_, err := hal.OpenSerial("/dev/ttyNOPE99", nonin8N1, 0)
	if !errors.Is(err, buserr.ErrNotFound) || !strings.Contains(err.Error(), "/dev/ttyNOPE99") {
		t.Fatalf("missing port: %v", err)
	}
	f := filepath.Join(t.TempDir(), "not-a-tty")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := hal.OpenSerial(f, nonin8N1, 0); !errors.Is(err, buserr.ErrBadConfig) || !strings.Contains(err.Error(), "not a serial port") {
		t.Fatalf("regular file: %v", err)
	}
	bad := nonin8N1
	bad.StopBits = 3
	if _, err := hal.OpenSerial(f, bad, 0); !errors.Is(err, buserr.ErrBadConfig) || !strings.Contains(err.Error(), "stop_bits") {
		t.Fatalf("stop bits 3: %v", err)
	}
}
