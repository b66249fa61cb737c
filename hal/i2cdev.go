package hal

import (
	"fmt"
	"os"
	"sync"
	"syscall"
	"unsafe"

	"medagent/hal/buserr"

	"golang.org/x/sys/unix"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
)

// Linux i2c-dev ABI (include/uapi/linux/i2c-dev.h, i2c.h).
const (
	ioctlI2CRdwr = 0x0707
	i2cMRd       = 0x0001
)

// i2cMsg matches struct i2c_msg on 32- and 64-bit Linux: three u16, then
// the buffer pointer aligned after two bytes of padding.
type i2cMsg struct {
	addr, flags, length uint16
	_                   uint16
	buf                 *byte
}

type i2cRdwr struct {
	msgs  *i2cMsg
	nmsgs uint32
}

// i2cDev is an I²C bus on /dev/i2c-N with errno-preserving errors.
type i2cDev struct {
	mu   sync.Mutex
	f    *os.File
	path string
	msgs [2]i2cMsg
	// smbus is set for an adapter that cannot do plain I²C transfers
	// (I2C_FUNCS without I2C_FUNC_I2C): Tx then goes through SMBus
	// (smbus.go). funcs is what the adapter can do.
	smbus bool
	funcs uint64
	addr  int // the address set with I2C_SLAVE, -1 for none
	sd    smbusData
}

func openI2CDev(path string) (*i2cDev, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, classify("open I2C bus", path, err)
	}
	b := &i2cDev{f: f, path: path, addr: -1}
	// An adapter that says what it can do and cannot do plain I²C gets
	// SMBus transfers; one that does not answer (not an i2c-dev node)
	// keeps I2C_RDWR, whose error then names the problem.
	var funcs uint // C unsigned long: 32 bits on armv7, 64 on arm64/amd64
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, f.Fd(), ioctlI2CFuncs, uintptr(unsafe.Pointer(&funcs))); e == 0 {
		b.funcs = uint64(funcs)
		b.smbus = funcs&i2cFuncI2C == 0
	}
	return b, nil
}

func (b *i2cDev) String() string { return b.path }

// Tx runs a write and/or read as one combined transaction (repeated start).
func (b *i2cDev) Tx(addr uint16, w, r []byte) error {
	if addr > 0x7F {
		return fmt.Errorf("hal: I2C %s: 10-bit address %#x: %w", b.path, addr, buserr.ErrBadConfig)
	}
	if len(w) > 0xFFFF || len(r) > 0xFFFF {
		return fmt.Errorf("hal: I2C %s: transfer too long: %w", b.path, buserr.ErrBadConfig)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.smbus {
		return b.smbusTx(addr, w, r)
	}
	n := 0
	if len(w) > 0 {
		b.msgs[n] = i2cMsg{addr: addr, length: uint16(len(w)), buf: &w[0]}
		n++
	}
	if len(r) > 0 {
		b.msgs[n] = i2cMsg{addr: addr, flags: i2cMRd, length: uint16(len(r)), buf: &r[0]}
		n++
	}
	if n == 0 {
		return nil
	}
	data := i2cRdwr{msgs: &b.msgs[0], nmsgs: uint32(n)}
	_, _, e := unix.Syscall(unix.SYS_IOCTL, b.f.Fd(), ioctlI2CRdwr, uintptr(unsafe.Pointer(&data)))
	if e != 0 {
		return classify(fmt.Sprintf("I2C addr %#x on", addr), b.path, syscall.Errno(e))
	}
	return nil
}

// SetSpeed is not possible through i2c-dev: the bus clock comes from the
// device tree.
func (b *i2cDev) SetSpeed(f physic.Frequency) error {
	return fmt.Errorf("hal: I2C %s: speed is set in the device tree, not at run time: %w", b.path, buserr.ErrBadConfig)
}

// Close closes the device node.
func (b *i2cDev) Close() error { return b.f.Close() }

var _ i2c.BusCloser = (*i2cDev)(nil)

// OpenI2CPath opens an i2c-dev node by path (for buses that udev names).
func OpenI2CPath(path string) (i2c.BusCloser, error) { return openI2CDev(path) }
