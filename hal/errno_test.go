package hal

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"

	"medagent/hal/buserr"

	"go.bug.st/serial"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want error
	}{
		{syscall.ENOENT, buserr.ErrNotFound},
		{syscall.EACCES, buserr.ErrPermission},
		{syscall.EBUSY, buserr.ErrBusy},
		{syscall.ENXIO, buserr.ErrNACK},
		{syscall.EREMOTEIO, buserr.ErrNACK},
		{syscall.ETIMEDOUT, buserr.ErrTimeout},
		{syscall.EIO, buserr.ErrDisconnected},
		// periph's sysfs drivers flatten errno into text.
		{fmt.Errorf("sysfs-spi: %v", syscall.EBUSY), buserr.ErrBusy},
		{fmt.Errorf("sysfs-gpio: %v", syscall.EACCES), buserr.ErrPermission},
	} {
		err := classify("open", "/dev/x", tc.err)
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), "/dev/x") {
			t.Errorf("classify(%v) = %v, want %v naming /dev/x", tc.err, err, tc.want)
		}
	}
	if err := classify("open", "/dev/x", syscall.EINVAL); errors.Is(err, buserr.ErrNACK) || !errors.Is(err, syscall.EINVAL) {
		t.Errorf("EINVAL: %v", err)
	}
}

func TestSerialErr(t *testing.T) {
	// go.bug.st/serial returns the raw errno for a missing node.
	_, err := serial.Open("/nonexistent/tty", &serial.Mode{BaudRate: 9600})
	if e := serialErr("open serial port", "/nonexistent/tty", err); !errors.Is(e, buserr.ErrNotFound) {
		t.Fatalf("missing tty: %v", e)
	}
}
