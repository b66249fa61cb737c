//go:build qemu

package qemu

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// qemuRun is the bench board: qemu-system-aarch64 (virt, Cortex-A57, two
// CPUs) with Debian's U-Boot, the disk on virtio, QEMU's user network (the
// host is 10.0.2.2), a TIS TPM backed by swtpm, and two virtio consoles:
// hvc0 (unused, as a console would be) and hvc1, the oximeter's line
// whose other end is a Unix socket on the host. Its serial console is the
// test's console (also in OUT/serial.log).
type qemuRun struct {
	cmd       *exec.Cmd
	con       *console
	done      chan error
	noninSock string
}

func startQEMU(ctx context.Context, t *testing.T, bin, out, disk, dir, tpmState string) *qemuRun {
	t.Helper()
	tpm := startSwtpm(t, tpmState, false)
	q := &qemuRun{noninSock: filepath.Join(dir, "nonin.sock"), done: make(chan error, 1)}
	var err error
	if q.con, err = newConsole(filepath.Join(out, "serial.log")); err != nil {
		t.Fatal(err)
	}
	q.cmd = exec.CommandContext(ctx, bin, "-M", "virt", "-cpu", "cortex-a57", "-smp", "2", "-m", "512", "-nographic",
		"-bios", filepath.Join(out, "u-boot.bin"),
		"-drive", "if=none,file="+disk+",format=raw,id=hd0", "-device", "virtio-blk-device,drive=hd0",
		"-netdev", "user,id=n0", "-device", "virtio-net-device,netdev=n0",
		"-chardev", "socket,id=tpm,path="+filepath.Join(tpm.dir, "ctrl"), "-tpmdev", "emulator,id=tpm0,chardev=tpm",
		"-device", "tpm-tis-device,tpmdev=tpm0",
		"-device", "virtio-serial-device",
		"-chardev", "null,id=hvc0", "-device", "virtconsole,chardev=hvc0,name=console",
		"-chardev", "socket,id=nonin,path="+q.noninSock+",server=on,wait=off", "-device", "virtconsole,chardev=nonin,name=nonin",
		// A board without an RTC battery: the clock starts in the past.
		"-rtc", "base=2001-01-01T00:00:00")
	q.cmd.Stdout, q.cmd.Stderr = q.con, q.con
	if err := q.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() { q.done <- q.cmd.Wait() }()
	t.Cleanup(func() {
		q.cmd.Process.Kill()
		<-q.done
		q.con.file.Close()
	})
	return q
}

// wait waits for QEMU to exit (the guest powered off).
func (q *qemuRun) wait(t *testing.T, timeout time.Duration) {
	t.Helper()
	select {
	case err := <-q.done:
		q.done <- err // for Cleanup
		if err != nil {
			t.Fatalf("qemu: %v", err)
		}
	case <-time.After(timeout):
		t.Fatalf("qemu still running %v after poweroff", timeout)
	}
}

// cpuSeconds is the CPU time QEMU has used so far (user and system): a
// measure of the emulation's cost that the load of a shared machine does
// not inflate as it does wall-clock time.
func (q *qemuRun) cpuSeconds() float64 {
	if q.cmd.Process == nil {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(q.cmd.Process.Pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	k, _ := strconv.ParseFloat(f[12], 64)
	return (u + k) / 100 // USER_HZ
}
