package hal

import (
	"testing"
	"unsafe"
)

// TestI2CABILayout pins struct i2c_msg and i2c_rdwr_ioctl_data to the
// kernel's layout on this architecture (run it under qemu-arm-static for
// armv7: GOARCH=arm go test -exec qemu-arm-static -run ABI ./hal/).
func TestI2CABILayout(t *testing.T) {
	ptr := unsafe.Sizeof(uintptr(0))
	var m i2cMsg
	if unsafe.Offsetof(m.flags) != 2 || unsafe.Offsetof(m.length) != 4 || unsafe.Offsetof(m.buf) != 8 {
		t.Fatalf("i2c_msg offsets flags=%d len=%d buf=%d", unsafe.Offsetof(m.flags), unsafe.Offsetof(m.length), unsafe.Offsetof(m.buf))
	}
	if want := 8 + ptr; unsafe.Sizeof(m) != want {
		t.Fatalf("sizeof(i2c_msg) = %d, want %d", unsafe.Sizeof(m), want)
	}
	var d i2cRdwr
	if unsafe.Offsetof(d.nmsgs) != ptr || unsafe.Sizeof(d) != 2*ptr {
		t.Fatalf("i2c_rdwr_ioctl_data nmsgs at %d size %d", unsafe.Offsetof(d.nmsgs), unsafe.Sizeof(d))
	}
}
