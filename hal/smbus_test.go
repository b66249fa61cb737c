package hal

import (
	"strings"
	"testing"
	"unsafe"
)

// TestSMBusFor: every register access the drivers make has the SMBus
// transfer with the same bytes on the wire, and what has none is refused
// with the sizes named.
func TestSMBusFor(t *testing.T) {
	for _, c := range []struct {
		w, r int
		want string
		size uint32
		rw   uint8
	}{
		{0, 1, "read byte", smbusByte, smbusRead},
		{1, 0, "write byte", smbusByte, smbusWrite},
		{1, 1, "read byte data", smbusByteData, smbusRead},
		{1, 2, "read word data", smbusWordData, smbusRead}, // TMP117, MAX3010x register reads
		{1, 6, "read I2C block data", smbusI2CBlockData, smbusRead},
		{1, 32, "read I2C block data", smbusI2CBlockData, smbusRead},
		{2, 0, "write byte data", smbusByteData, smbusWrite},
		{3, 0, "write word data", smbusWordData, smbusWrite}, // TMP117 register writes
		{4, 0, "write I2C block data", smbusI2CBlockData, smbusWrite},
		{33, 0, "write I2C block data", smbusI2CBlockData, smbusWrite},
		{1, 33, "", 0, 0},  // longer than an SMBus block
		{34, 0, "", 0, 0},  // likewise
		{2, 2, "", 0, 0},   // two-byte register pointer
		{0, 2, "", 0, 0},   // bare two-byte read
		{3, 1, "", 0, 0},   // write then read of data
		{1, 192, "", 0, 0}, // a MAX3010x FIFO burst
	} {
		w, r := make([]byte, c.w), make([]byte, c.r)
		if c.w > 0 {
			w[0] = 0x0F
		}
		op, err := smbusFor(w, r)
		if c.want == "" {
			if err == nil || !strings.Contains(err.Error(), "no SMBus form") {
				t.Errorf("w%d r%d: %+v, %v; want no SMBus form", c.w, c.r, op, err)
			}
			continue
		}
		if err != nil || op.name != c.want || op.size != c.size || op.readWrite != c.rw {
			t.Errorf("w%d r%d: %+v, %v; want %s (size %d, rw %d)", c.w, c.r, op, err, c.want, c.size, c.rw)
		}
		if c.w > 0 && c.want != "write byte" && op.command != 0x0F {
			t.Errorf("w%d r%d: command %#x, want the register pointer 0x0f", c.w, c.r, op.command)
		}
	}
}

// TestSMBusABILayout pins struct i2c_smbus_ioctl_data and the size of
// union i2c_smbus_data.
func TestSMBusABILayout(t *testing.T) {
	var a smbusIoctl
	if unsafe.Offsetof(a.command) != 1 || unsafe.Offsetof(a.size) != 4 || unsafe.Offsetof(a.data) != 8 {
		t.Fatalf("i2c_smbus_ioctl_data offsets command=%d size=%d data=%d", unsafe.Offsetof(a.command), unsafe.Offsetof(a.size), unsafe.Offsetof(a.data))
	}
	if want := 8 + unsafe.Sizeof(uintptr(0)); unsafe.Sizeof(a) != want {
		t.Fatalf("sizeof(i2c_smbus_ioctl_data) = %d, want %d", unsafe.Sizeof(a), want)
	}
	if unsafe.Sizeof(smbusData{}) != 34 {
		t.Fatalf("sizeof(i2c_smbus_data) = %d, want 34", unsafe.Sizeof(smbusData{}))
	}
}
