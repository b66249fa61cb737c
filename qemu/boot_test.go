//go:build qemu

package qemu

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"medagent/tlsconf/tlstest"
	"medagent/uplink/mosquittotest"
)

const (
	deviceID   = "MA-QEMU-1"
	deviceType = "qemu-medagent"
	bootWait   = 5 * time.Minute  // U-Boot + kernel + init under software emulation
	updateWait = 15 * time.Minute // install of a 96 MiB rootfs, then reboot
)

// outDir is where qemu/build-image.sh left the images.
func outDir(t *testing.T) string {
	d := os.Getenv("MEDAGENT_QEMU_OUT")
	if d == "" {
		d = "out"
	}
	for _, f := range []string{"disk.img", "u-boot.bin", "rootfs-B.ext4", "rootfs-C.ext4", "rootfs-D.ext4"} {
		if _, err := os.Stat(filepath.Join(d, f)); err != nil {
			t.Fatalf("%v: build the images first with qemu/test.sh (or qemu/build-image.sh)", err)
		}
	}
	return d
}

func needTool(t *testing.T, tool, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		t.Fatalf("%s not found: install Debian package %s", tool, pkg)
	}
	return p
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

func write(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, dst, src string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	write(t, dst, string(b), mode)
}

type partition struct {
	Start, Size int64
}

// partitions reads the partition table of a disk image with sfdisk.
func partitions(t *testing.T, disk string) []partition {
	t.Helper()
	out, err := exec.Command("sfdisk", "-J", disk).Output()
	if err != nil {
		t.Fatalf("sfdisk -J %s: %v", disk, err)
	}
	var pt struct {
		PartitionTable struct {
			Partitions []partition `json:"partitions"`
		} `json:"partitiontable"`
	}
	if err := json.Unmarshal(out, &pt); err != nil {
		t.Fatalf("sfdisk -J: %v", err)
	}
	if n := len(pt.PartitionTable.Partitions); n != 4 {
		t.Fatalf("%s has %d partitions, want 4 (boot, A, B, data)", disk, n)
	}
	return pt.PartitionTable.Partitions
}

// agentConfig is the agent's configuration in the data partition: simulated
// sensors, mutual TLS to the host's mosquitto through QEMU's user network.
func agentConfig(port string) string {
	return fmt.Sprintf(`device:
  id: %s
  type: %s
spool:
  dir: /data/medagent/spool
  max_bytes: 8388608
  segment_bytes: 1048576
mqtt:
  broker: tls://10.0.2.2:%s
  server_name: localhost
  ca_file: /data/medagent/pki/ca.pem
  cert_file: /data/medagent/pki/device.pem
  key_file: /data/medagent/pki/device.key
sensors:
  - {name: ecg, driver: ads1292, rate: 250, bus: sim, drdy: "sim:ads-drdy", spi_mode: 1}
  - {name: ppg, driver: max3010x, rate: 50, bus: sim, address: 0x57}
  - {name: temp, driver: tmp117, rate: 1, bus: sim, address: 0x48}
log:
  level: info
`, deviceID, deviceType, port)
}

func TestBootPublishUpdateRollback(t *testing.T) {
	out := outDir(t)
	qemu := needTool(t, "qemu-system-aarch64", "qemu-system-arm")
	needTool(t, "mender-artifact", "mender-artifact")
	needTool(t, "mkfs.ext4", "e2fsprogs")
	needTool(t, "sfdisk", "fdisk")
	needTool(t, "openssl", "openssl")
	if _, err := os.Stat("/dev/kvm"); err != nil {
		t.Log("no /dev/kvm: QEMU runs arm64 in software emulation; expect about a minute per boot and several for an install")
	}
	dir := t.TempDir()
	start := time.Now()
	elapsed := func() string { return time.Since(start).Round(time.Second).String() }

	pki, err := tlstest.WritePKI(filepath.Join(dir, "pki"), deviceID)
	if err != nil {
		t.Fatal(err)
	}
	broker := mosquittotest.Start(t, pki.Dir)
	mon := mosquittotest.Subscribe(t, broker, pki.Dir, "medagent/v1/#", mosquittotest.MonitorOptions{})
	_, port, err := net.SplitHostPort(broker.Addr)
	if err != nil {
		t.Fatal(err)
	}

	// The data partition: config, PKI, the test hook and two signed artifacts.
	data := filepath.Join(dir, "data")
	write(t, filepath.Join(data, "medagent", "medagent.yaml"), agentConfig(port), 0o644)
	for _, f := range []string{tlstest.CAFile, tlstest.DeviceCertFile, tlstest.DeviceKeyFile} {
		copyFile(t, filepath.Join(data, "medagent", "pki", f), filepath.Join(pki.Dir, f), 0o600)
	}
	copyFile(t, filepath.Join(data, "hook.sh"), filepath.Join("testdata", "hook.sh"), 0o755)
	write(t, filepath.Join(data, "test", "reboot.sh"), "#!/bin/sh\necho \"HOOK: reboot requested at $(date +%s)\" >/dev/console\nsync\nreboot -f\n", 0o755)
	if err := os.MkdirAll(filepath.Join(data, "test", "scripts"), 0o755); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, "artifact-key.pem")
	run(t, "openssl", "ecparam", "-genkey", "-name", "prime256v1", "-noout", "-out", key)
	run(t, "openssl", "ec", "-in", key, "-pubout", "-out", filepath.Join(data, "test", "artifact.pub"))
	// The queue, in name order: B installed in two steps (no reboot, a
	// commit before the reboot, an engine restart that must reboot), the
	// current environment copy corrupted before a reboot, then C and D.
	for _, q := range []struct{ name, rel string }{{"1-B.split.mender", "B"}, {"2-corrupt-env", ""}, {"3-C.mender", "C"}, {"4-D.mender", "D"}} {
		art := filepath.Join(data, "test", "queue", q.name)
		if err := os.MkdirAll(filepath.Dir(art), 0o755); err != nil {
			t.Fatal(err)
		}
		if q.rel == "" {
			write(t, art, "", 0o644)
			continue
		}
		run(t, "mender-artifact", "write", "rootfs-image", "-f", filepath.Join(out, "rootfs-"+q.rel+".ext4"),
			"-n", "release-"+q.rel, "-t", deviceType, "-k", key, "-o", art)
	}

	disk := filepath.Join(dir, "disk.img")
	run(t, "cp", "--sparse=always", filepath.Join(out, "disk.img"), disk)
	parts := partitions(t, disk)
	dataImg := filepath.Join(dir, "data.ext4")
	run(t, "mkfs.ext4", "-q", "-F", "-L", "data", "-d", data, dataImg, fmt.Sprintf("%dk", parts[3].Size/2))
	run(t, "dd", "if="+dataImg, "of="+disk, "bs=512", fmt.Sprintf("seek=%d", parts[3].Start), "conv=notrunc,sparse", "status=none")
	t.Logf("%s: disk ready (PKI, broker on %s, artifacts B, broken C and D)", elapsed(), broker.Addr)

	con, err := newConsole(filepath.Join(out, "serial.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(qemu, "-M", "virt", "-cpu", "cortex-a57", "-m", "512", "-nographic",
		"-bios", filepath.Join(out, "u-boot.bin"),
		"-drive", "if=none,file="+disk+",format=raw,id=hd0", "-device", "virtio-blk-device,drive=hd0",
		"-netdev", "user,id=n0", "-device", "virtio-net-device,netdev=n0")
	cmd.Stdout, cmd.Stderr = con, con
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", qemu, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		con.file.Close()
	})
	ours := func(from int) func([]mosquittotest.Message) bool {
		return func(msgs []mosquittotest.Message) bool {
			for _, m := range msgs[min(from, len(msgs)):] {
				if strings.HasPrefix(m.Topic, "medagent/v1/"+deviceID+"/telemetry/") {
					return true
				}
			}
			return false
		}
	}

	// Boot 1: release A on partition 2 publishes over mutual TLS.
	at := con.waitFor(t, 0, "medagent-init: release A on partition 2", bootWait)
	t.Logf("%s: booted A", elapsed())
	mon.WaitFor(t, 3*time.Minute, "telemetry from the guest on A", ours(0))
	t.Logf("%s: telemetry from A", elapsed())

	// Update to B: install without the reboot; a commit before the reboot
	// is refused; an engine restart (resume in a new process) between
	// arming and the reboot reboots into B instead of committing it.
	at = con.waitFor(t, at, "HOOK: installing 1-B.split.mender (no reboot)", 2*time.Minute)
	at = con.waitFor(t, at, "HOOK: installed without reboot", updateWait)
	what, at := con.waitForAny(t, at, time.Minute, "HOOK: commit before the reboot refused", "HOOK: commit before the reboot ACCEPTED")
	con.waitFor(t, at, "\n", time.Minute)
	if line := con.line(at); what != "HOOK: commit before the reboot refused" || !strings.Contains(line, "has not booted yet") {
		t.Fatalf("commit before the reboot: %s%s; want refused: has not booted yet", what, line)
	}
	t.Logf("%s: commit before the reboot refused%s", elapsed(), con.line(at))
	at = con.waitFor(t, at, "HOOK: agent restart between arming and reboot: resume", time.Minute)
	at = con.waitFor(t, at, "HOOK: reboot requested", 2*time.Minute)
	t.Logf("%s: B installed, the restarted engine reboots", elapsed())
	at = con.waitFor(t, at, "medagent: booting slot 3 (upgrade_available=1 bootcount=1", bootWait)
	at = con.waitFor(t, at, "medagent-init: release B on partition 3", bootWait)
	n := len(mon.Messages())
	t.Logf("%s: booted B on trial", elapsed())
	at = con.waitFor(t, at, "HOOK: resume ok", 3*time.Minute)
	at = con.waitFor(t, at, "state:     committed", time.Minute)
	mon.WaitFor(t, 3*time.Minute, "telemetry from the guest on B", ours(n))
	t.Logf("%s: B committed and publishing", elapsed())

	// The current copy of the boot environment is damaged; the board
	// boots B, committed, from the other copy, and the agent reads it.
	at = con.waitFor(t, at, "HOOK: corrupted /uboot/", 2*time.Minute)
	con.waitFor(t, at, "\n", time.Minute)
	t.Logf("%s: corrupted /uboot/%s", elapsed(), con.line(at))
	at = con.waitFor(t, at, "## Error: bad CRC, import failed", bootWait)
	at = con.waitFor(t, at, "medagent: booting slot 3 (upgrade_available=0", bootWait)
	at = con.waitFor(t, at, "medagent-init: release B on partition 3", bootWait)
	at = con.waitFor(t, at, "HOOK: partition 3 healthy=yes state=committed", 3*time.Minute)
	at = con.waitFor(t, at, "HOOK: resume ok", time.Minute)
	t.Logf("%s: B boots committed from the other copy", elapsed())

	// Broken update C into partition 2: its agent does not start, the board
	// resets without a commit, the boot script counts past bootlimit and
	// falls back to B, and the engine records the rollback.
	at = con.waitFor(t, at, "HOOK: installing 3-C.mender", 2*time.Minute)
	at = con.waitFor(t, at, "HOOK: reboot requested", updateWait)
	at = con.waitFor(t, at, "medagent-init: release C on partition 2", bootWait)
	at = con.waitFor(t, at, "HOOK: unhealthy on trial boot", 3*time.Minute)
	t.Logf("%s: C unhealthy, reset", elapsed())
	at = con.waitFor(t, at, "medagent: bootcount 2 > bootlimit 1: rolling back", bootWait)
	at = con.waitFor(t, at, "medagent: booting slot 3 (upgrade_available=0 bootcount=0", bootWait)
	at = con.waitFor(t, at, "medagent-init: release B on partition 3", bootWait)
	n = len(mon.Messages())
	// The engine finds itself on the old slot and records the rollback; it
	// reports that as an error of resume, which is what the hook prints.
	what, at = con.waitForAny(t, at, 3*time.Minute, "HOOK: resume ok", "HOOK: resume failed")
	if what != "HOOK: resume failed" {
		t.Fatalf("after the fallback: %s %s; want resume to report the boot loader's fallback", what, con.line(at))
	}
	con.waitFor(t, at, "\n", time.Minute) // the serial line may arrive in pieces
	if line := con.line(at); !strings.Contains(line, "fell back to slot B") {
		t.Fatalf("after the fallback: resume said %q; want the boot loader's fallback to slot B", line)
	}
	t.Logf("%s: back on B, engine: %s", elapsed(), con.line(at))
	at = con.waitFor(t, at, "state:     rolled-back", time.Minute)
	mon.WaitFor(t, 3*time.Minute, "telemetry from the guest after the rollback", ours(n))
	t.Logf("%s: rolled back to B and publishing", elapsed())

	// After a rollback the device still updates: D into partition 2, committed.
	at = con.waitFor(t, at, "HOOK: installing 4-D.mender", 2*time.Minute)
	at = con.waitFor(t, at, "HOOK: reboot requested", updateWait)
	at = con.waitFor(t, at, "medagent: booting slot 2 (upgrade_available=1 bootcount=1", bootWait)
	at = con.waitFor(t, at, "medagent-init: release D on partition 2", bootWait)
	n = len(mon.Messages())
	at = con.waitFor(t, at, "HOOK: resume ok", 3*time.Minute)
	at = con.waitFor(t, at, "state:     committed", time.Minute)
	mon.WaitFor(t, 3*time.Minute, "telemetry from the guest on D", ours(n))
	con.waitFor(t, at, "HOOK: queue empty", time.Minute)
	t.Logf("%s: D committed and publishing; whole cycle done", elapsed())
}
