package hal_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"medagent/hal"
	"medagent/hal/buserr"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
)

func TestOpenI2CErrors(t *testing.T) {
	_, err := hal.OpenI2C("250")
	if !errors.Is(err, buserr.ErrNotFound) || !strings.Contains(err.Error(), "/dev/i2c-250") {
		t.Fatalf("missing bus: %v, want ErrNotFound naming /dev/i2c-250", err)
	}
	if _, err := hal.OpenI2C("i2c-x"); !errors.Is(err, buserr.ErrBadConfig) {
		t.Fatalf("bad name: %v", err)
	}
	for in, want := range map[string]string{"1": "/dev/i2c-1", "i2c-3": "/dev/i2c-3", "/dev/i2c-10": "/dev/i2c-10"} {
		if got, err := hal.I2CPath(in); err != nil || got != want {
			t.Errorf("I2CPath(%q) = %q, %v", in, got, err)
		}
	}
}

// fakePort is an SPI port whose transfers fail the way periph's spidev
// driver reports a vanished device: errno flattened into text.
type fakePort struct{ connects int }

func (p *fakePort) String() string                      { return "fake" }
func (p *fakePort) Close() error                        { return nil }
func (p *fakePort) LimitSpeed(f physic.Frequency) error { return nil }
func (p *fakePort) Connect(f physic.Frequency, m spi.Mode, bits int) (spi.Conn, error) {
	p.connects++
	return failConn{}, nil
}

type failConn struct{ spi.Conn }

func (failConn) Tx(w, r []byte) error {
	return errors.New("sysfs-spi: Tx() failed: input/output error")
}

// A configuration saying mode 0 is refused when the driver asks for mode
// 1, naming both; a transfer's flattened errno is mapped back.
func TestLimitSPIModeAndErrors(t *testing.T) {
	p := &fakePort{}
	port, err := hal.LimitSPI(p, "/dev/spidev0.0", spi.Mode0, physic.MegaHertz)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := port.Connect(physic.MegaHertz, spi.Mode1, 8); !errors.Is(err, buserr.ErrBadConfig) || !strings.Contains(err.Error(), "wrong mode") {
		t.Fatalf("mode mismatch: %v", err)
	}
	if p.connects != 0 {
		t.Fatal("the port was connected in the wrong mode")
	}
	c, err := port.Connect(2*physic.MegaHertz, spi.Mode0, 8)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Tx([]byte{1}, make([]byte, 1))
	if !errors.Is(err, buserr.ErrDisconnected) || !strings.Contains(err.Error(), "SPI transfer on /dev/spidev0.0") {
		t.Fatalf("Tx = %v, want ErrDisconnected from the mapped EIO", err)
	}
}

func TestOpenSPIMissing(t *testing.T) {
	_, err := hal.OpenSPI("9.9", spi.Mode1, 0)
	if !errors.Is(err, buserr.ErrNotFound) || !strings.Contains(err.Error(), "/dev/spidev9.9") {
		t.Fatalf("missing spidev: %v", err)
	}
	if _, err := hal.OpenSPI("spi0", spi.Mode1, 0); !errors.Is(err, buserr.ErrBadConfig) {
		t.Fatalf("bad name: %v", err)
	}
}

func TestOpenPinErrors(t *testing.T) {
	if _, err := hal.OpenPin("GPIO_NO_SUCH_LINE", gpio.PullUp, gpio.FallingEdge); !errors.Is(err, buserr.ErrNotFound) {
		t.Fatalf("missing line: %v", err)
	}
}

func TestI2CNotADevice(t *testing.T) {
	// A regular file is not an i2c-dev node: the ioctl fails with ENOTTY
	// and the error names the path.
	p := filepath.Join(t.TempDir(), "i2c-fake")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	bus, err := hal.OpenI2CPath(p)
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	err = bus.Tx(0x48, []byte{0}, make([]byte, 2))
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "0x48") {
		t.Fatalf("Tx on a regular file = %v", err)
	}
}
