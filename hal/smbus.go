package hal

import (
	"encoding/binary"
	"fmt"
	"syscall"
	"unsafe"

	"medagent/hal/buserr"

	"golang.org/x/sys/unix"
)

// Linux i2c-dev SMBus ABI (include/uapi/linux/i2c-dev.h, i2c.h). Some
// adapters (PC SMBus controllers, the kernel's i2c-stub that the QEMU bench
// uses) do SMBus only: I2C_RDWR fails on them with EOPNOTSUPP, so the
// register reads and writes the drivers make are sent as the SMBus
// transfers that put the same bytes on the wire.
const (
	ioctlI2CSlave = 0x0703
	ioctlI2CFuncs = 0x0705
	ioctlI2CSMBus = 0x0720

	i2cFuncI2C           = 0x00000001
	i2cFuncReadByte      = 0x00020000
	i2cFuncWriteByte     = 0x00040000
	i2cFuncReadByteData  = 0x00080000
	i2cFuncWriteByteData = 0x00100000
	i2cFuncReadWordData  = 0x00200000
	i2cFuncWriteWordData = 0x00400000
	i2cFuncReadI2CBlock  = 0x04000000
	i2cFuncWriteI2CBlock = 0x08000000

	smbusWrite = 0
	smbusRead  = 1

	smbusByte         = 1
	smbusByteData     = 2
	smbusWordData     = 3
	smbusI2CBlockData = 8

	smbusBlockMax = 32
)

// smbusData is union i2c_smbus_data: a byte, a word, or a block whose
// first byte is its length.
type smbusData [smbusBlockMax + 2]byte

// smbusIoctl is struct i2c_smbus_ioctl_data (the pointer lands at offset 8
// on 32- and 64-bit Linux).
type smbusIoctl struct {
	readWrite uint8
	command   uint8
	_         [2]byte
	size      uint32
	data      *smbusData
}

// smbusOp is the SMBus transfer that carries one Tx.
type smbusOp struct {
	name      string // for errors: "read word data"
	readWrite uint8
	command   uint8
	size      uint32
	fn        uint64 // the I2C_FUNCS bit the adapter needs for it
}

// smbusFor maps a combined write/read (what periph drivers send) to the
// SMBus transfer with the same bytes on the wire: a register pointer then
// a read of 1, 2 or up to 32 bytes, or a write of a register and 0, 1, 2
// or up to 32 data bytes. SMBus words go low byte first, which is the
// wire order of the two bytes read or written.
func smbusFor(w, r []byte) (smbusOp, error) {
	switch {
	case len(w) == 0 && len(r) == 1:
		return smbusOp{"read byte", smbusRead, 0, smbusByte, i2cFuncReadByte}, nil
	case len(w) == 1 && len(r) == 0:
		return smbusOp{"write byte", smbusWrite, w[0], smbusByte, i2cFuncWriteByte}, nil
	case len(w) == 1 && len(r) == 1:
		return smbusOp{"read byte data", smbusRead, w[0], smbusByteData, i2cFuncReadByteData}, nil
	case len(w) == 1 && len(r) == 2:
		return smbusOp{"read word data", smbusRead, w[0], smbusWordData, i2cFuncReadWordData}, nil
	case len(w) == 1 && len(r) <= smbusBlockMax:
		return smbusOp{"read I2C block data", smbusRead, w[0], smbusI2CBlockData, i2cFuncReadI2CBlock}, nil
	case len(w) == 2 && len(r) == 0:
		return smbusOp{"write byte data", smbusWrite, w[0], smbusByteData, i2cFuncWriteByteData}, nil
	case len(w) == 3 && len(r) == 0:
		return smbusOp{"write word data", smbusWrite, w[0], smbusWordData, i2cFuncWriteWordData}, nil
	case len(w) > 3 && len(w) <= smbusBlockMax+1 && len(r) == 0:
		return smbusOp{"write I2C block data", smbusWrite, w[0], smbusI2CBlockData, i2cFuncWriteI2CBlock}, nil
	}
	return smbusOp{}, fmt.Errorf("a %d-byte write with a %d-byte read has no SMBus form", len(w), len(r))
}

// smbusTx runs Tx on an SMBus-only adapter. Called with b.mu held.
func (b *i2cDev) smbusTx(addr uint16, w, r []byte) error {
	op, err := smbusFor(w, r)
	if err != nil {
		return fmt.Errorf("hal: I2C %s is SMBus-only (no plain I2C transfers): addr %#x: %v: %w", b.path, addr, err, buserr.ErrBadConfig)
	}
	if b.funcs&op.fn == 0 {
		return fmt.Errorf("hal: I2C %s is SMBus-only and cannot %s (I2C_FUNCS %#x): addr %#x: %w", b.path, op.name, b.funcs, addr, buserr.ErrBadConfig)
	}
	if b.addr != int(addr) {
		if _, _, e := unix.Syscall(unix.SYS_IOCTL, b.f.Fd(), ioctlI2CSlave, uintptr(addr)); e != 0 {
			return classify(fmt.Sprintf("I2C set address %#x on", addr), b.path, syscall.Errno(e))
		}
		b.addr = int(addr)
	}
	d := &b.sd
	*d = smbusData{}
	switch {
	case op.readWrite == smbusWrite && op.size == smbusByteData:
		d[0] = w[1]
	case op.readWrite == smbusWrite && op.size == smbusWordData:
		binary.NativeEndian.PutUint16(d[:2], uint16(w[1])|uint16(w[2])<<8)
	case op.readWrite == smbusWrite && op.size == smbusI2CBlockData:
		d[0] = byte(len(w) - 1)
		copy(d[1:], w[1:])
	case op.readWrite == smbusRead && op.size == smbusI2CBlockData:
		d[0] = byte(len(r))
	}
	arg := smbusIoctl{readWrite: op.readWrite, command: op.command, size: op.size, data: d}
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, b.f.Fd(), ioctlI2CSMBus, uintptr(unsafe.Pointer(&arg))); e != 0 {
		return classify(fmt.Sprintf("I2C addr %#x (SMBus %s) on", addr, op.name), b.path, syscall.Errno(e))
	}
	if op.readWrite == smbusRead {
		switch op.size {
		case smbusByte, smbusByteData:
			r[0] = d[0]
		case smbusWordData:
			v := binary.NativeEndian.Uint16(d[:2])
			r[0], r[1] = byte(v), byte(v>>8)
		case smbusI2CBlockData:
			if int(d[0]) != len(r) {
				return fmt.Errorf("hal: I2C addr %#x on %s: SMBus block read returned %d bytes, want %d: %w", addr, b.path, d[0], len(r), buserr.ErrDisconnected)
			}
			copy(r, d[1:1+len(r)])
		}
	}
	return nil
}
