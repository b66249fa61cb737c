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
	"medagent/sensors/ads1292"
	"medagent/sensors/ads1292/ads1292sim"
	"medagent/sensors/tmp117"
	"medagent/sensors/tmp117/tmp117sim"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
)

func TestOpenI2CSim(t *testing.T) {
	sim := hal.NewSim()
	chip := tmp117sim.New(0x48, &tmp117sim.Opts{Wave: tmp117sim.Constant(37.25)})
	sim.AddI2C(0x48, chip)
	bus, err := hal.OpenI2C("sim", sim)
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	d, err := tmp117.New(bus, 0x48, nil)
	if err != nil {
		t.Fatal(err)
	}
	chip.Advance(time.Second)
	var temp physic.Temperature
	if err := d.Sense(&temp); err != nil || temp != physic.ZeroCelsius+37250*physic.MilliKelvin {
		t.Fatalf("Sense = %v, %v", temp, err)
	}
	if _, err := tmp117.New(bus, 0x49, nil); !errors.Is(err, buserr.ErrNACK) {
		t.Fatalf("empty sim address: %v, want ErrNACK", err)
	}
	if _, err := hal.OpenI2C("sim", nil); !errors.Is(err, buserr.ErrNotFound) {
		t.Fatalf("sim without registry: %v", err)
	}
}

func TestOpenI2CErrors(t *testing.T) {
	_, err := hal.OpenI2C("250", nil)
	if !errors.Is(err, buserr.ErrNotFound) || !strings.Contains(err.Error(), "/dev/i2c-250") {
		t.Fatalf("missing bus: %v, want ErrNotFound naming /dev/i2c-250", err)
	}
	if _, err := hal.OpenI2C("i2c-x", nil); !errors.Is(err, buserr.ErrBadConfig) {
		t.Fatalf("bad name: %v", err)
	}
	for in, want := range map[string]string{"1": "/dev/i2c-1", "i2c-3": "/dev/i2c-3", "/dev/i2c-10": "/dev/i2c-10"} {
		if got, err := hal.I2CPath(in); err != nil || got != want {
			t.Errorf("I2CPath(%q) = %q, %v", in, got, err)
		}
	}
}

func TestOpenSPISimAndMode(t *testing.T) {
	sim := hal.NewSim()
	chip := ads1292sim.New(nil)
	sim.AddSPI("", chip)
	sim.AddPin("drdy", chip.DRDY())
	port, err := hal.OpenSPI("sim", spi.Mode1, physic.MegaHertz, sim)
	if err != nil {
		t.Fatal(err)
	}
	pin, err := hal.OpenPin("sim:drdy", gpio.PullUp, gpio.FallingEdge, sim)
	if err != nil {
		t.Fatal(err)
	}
	d, err := ads1292.New(port, &ads1292.Opts{DRDY: pin, Clock: chip.Now})
	if err != nil {
		t.Fatal(err)
	}
	var f ads1292.Frame
	if err := d.Read(&f); err != nil {
		t.Fatal(err)
	}
	// A configuration saying mode 0 is refused when the driver asks for mode 1.
	port0, err := hal.OpenSPI("sim", spi.Mode0, 0, sim)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ads1292.New(port0, nil)
	if !errors.Is(err, buserr.ErrBadConfig) || !strings.Contains(err.Error(), "wrong mode") {
		t.Fatalf("mode mismatch: %v", err)
	}
	if _, err := hal.OpenSPI("sim:other", spi.Mode1, 0, sim); !errors.Is(err, buserr.ErrNotFound) {
		t.Fatalf("unknown sim port: %v", err)
	}
}

func TestOpenSPIMissing(t *testing.T) {
	_, err := hal.OpenSPI("9.9", spi.Mode1, 0, nil)
	if !errors.Is(err, buserr.ErrNotFound) || !strings.Contains(err.Error(), "/dev/spidev9.9") {
		t.Fatalf("missing spidev: %v", err)
	}
	if _, err := hal.OpenSPI("spi0", spi.Mode1, 0, nil); !errors.Is(err, buserr.ErrBadConfig) {
		t.Fatalf("bad name: %v", err)
	}
}

func TestOpenPinErrors(t *testing.T) {
	if _, err := hal.OpenPin("GPIO_NO_SUCH_LINE", gpio.PullUp, gpio.FallingEdge, nil); !errors.Is(err, buserr.ErrNotFound) {
		t.Fatalf("missing line: %v", err)
	}
	sim := hal.NewSim()
	_, err := hal.OpenPin("sim:drdy", gpio.PullUp, gpio.FallingEdge, sim)
	if !errors.Is(err, buserr.ErrNotFound) || !strings.Contains(err.Error(), "sim:drdy") {
		t.Fatalf("missing sim line: %v", err)
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

// failPort is an SPI port whose transfers fail the way periph's spidev
// driver reports a vanished device: errno flattened into text.
type failPort struct{ *ads1292sim.Chip }

func (p failPort) Connect(f physic.Frequency, m spi.Mode, bits int) (spi.Conn, error) {
	c, err := p.Chip.Connect(f, m, bits)
	return failConn{c}, err
}

type failConn struct{ spi.Conn }

func (failConn) Tx(w, r []byte) error {
	return errors.New("sysfs-spi: Tx() failed: input/output error")
}

func TestSPITransferErrorMapped(t *testing.T) {
	sim := hal.NewSim()
	sim.AddSPI("bad", failPort{ads1292sim.New(nil)})
	port, err := hal.OpenSPI("sim:bad", spi.Mode1, 0, sim)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ads1292.New(port, nil)
	if !errors.Is(err, buserr.ErrDisconnected) || !strings.Contains(err.Error(), "SPI transfer on") {
		t.Fatalf("New over a failing port = %v, want ErrDisconnected from the mapped EIO", err)
	}
}
