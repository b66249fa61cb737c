//go:build qemu

package qemu

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"medagent/senml"
	"medagent/tlsconf/tlstest"
	"medagent/trust/command"
	"medagent/trust/keyring"
	"medagent/uplink/mosquittotest"
)

const (
	deviceID   = "MA-QEMU-1"
	deviceType = "medagent-bedside" // configs/medagent.yaml
	// Software emulation (TCG) of arm64, on a machine others share: the
	// waits are generous and the test logs how long each part took.
	bootWait   = 15 * time.Minute
	updateWait = 30 * time.Minute
	stepWait   = 5 * time.Minute
)

// Body temperatures the bench's TMP117 (i2c-stub) reports.
const (
	tempNormal = 37.0
	tempFever  = 39.5 // above alarms.temp.high (39)
)

// tempRegister is a TMP117 result register value (7.8125 m°C per bit).
func tempRegister(c float64) string {
	return fmt.Sprintf("0x%04x", uint16(int16(math.Round(c/0.0078125))))
}

// deviceConfig is what provisioning writes on the data partition and the
// units lay over the product configuration (/etc/medagent/medagent.yaml,
// configs/medagent.yaml unchanged): this device's identity and broker, and
// the bench board's buses.
func deviceConfig(brokerPort int) string {
	return fmt.Sprintf(`# Device configuration (provisioning): laid over /etc/medagent/medagent.yaml.
device:
  id: %s
mqtt:
  broker: tls://10.0.2.2:%d
  server_name: localhost
# The QEMU bench board's buses: the TMP117 on the kernel's i2c-stub, the
# Nonin on a virtio console fed by the host. The ADS1292R has no kernel
# stand-in: simulated, which only the bench build can do. The TMP117 runs
# one-shot conversions without averaging (15.5 ms): i2c-stub cannot clear
# Data_Ready when it is read, as the chip does in continuous mode, and
# tmp117chip does the conversions.
sensors:
  - {name: ecg, driver: ads1292r, rate: 250, bus: sim, drdy: "sim:ads-drdy", spi_mode: 1}
  - {name: spo2, driver: nonin, bus: /dev/hvc1}
  - {name: temp, driver: tmp117, rate: 1, bus: /dev/i2c-0, address: 0x48, options: {mode: oneshot, averaging: 1}}
update:
  slot_a: /dev/vda2
  slot_b: /dev/vda3
  # An emulated board on a busy host boots slowly: the trial boot's checks
  # get the time it needs.
  health_timeout: 10m
`, deviceID, brokerPort)
}

// TestShippedImage boots the systemd bench image as shipped (acquire and
// uplink as their own users, the product configuration from configs/, a
// device configuration, certificate and keyring from provisioning, the
// device key in a TPM) and checks each step from outside: the serial
// console, a mosquitto subscriber on the host, the hook's reports, and
// fw_printenv on the disk afterwards. One boot sequence carries every check:
//
//  1. release 1.0.0, clock in the past (no RTC): the certificate is not yet
//     valid; vitals are spooled and a fever alarm is raised offline; the
//     roles' isolation and exposure, the key in the TPM, the manual page;
//     the clock is set and everything spooled arrives, from seq 1 on.
//  2. a signed update command: the uplink downloads 1.1.0 over HTTPS,
//     acquire verifies and installs it, holds the reboot while the patient
//     is monitored until a technician releases it, and after the trial boot
//     its own checks commit it ("done" on cmd-result); then the current copy
//     of the boot environment is damaged: 1.1.0 boots committed from the
//     other copy.
//  3. a signed update to 1.2.0, whose agent cannot start: the unit's start
//     limit reboots, U-Boot falls back to 1.1.0, "failed" on cmd-result.
//  4. the board that rolled back takes the next good update (1.3.0) into
//     slot a: trial boot, committed by the agent's own checks.
//  5. one process (medagent.service, role all) instead of the split
//     units: it runs as the acquire role's user, publishes, and serves the
//     technician; fw_printenv afterwards: slot a committed.
func TestShippedImage(t *testing.T) {
	out := os.Getenv("MEDAGENT_QEMU_OUT")
	if out == "" {
		out = "out"
	}
	for _, f := range []string{"disk.img", "u-boot.bin", "rootfs-B.ext4", "rootfs-C.ext4", "rootfs-D.ext4"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Fatalf("%v: build the image first with qemu/build-image.sh (make qemu-test does)", err)
		}
	}
	qemuBin := needTool(t, "qemu-system-aarch64", "qemu-system-arm")
	needTool(t, "mender-artifact", "mender-artifact")
	needTool(t, "mkfs.ext4", "e2fsprogs")
	needTool(t, "sfdisk", "fdisk")
	needTool(t, "fw_printenv", "libubootenv-tool")
	needTool(t, "mcopy", "mtools")
	if os.Geteuid() != 0 {
		t.Fatal("run as root: the data partition's files belong to the image's users")
	}
	dir := t.TempDir()
	start := time.Now()
	var q *qemuRun
	logf := func(format string, args ...any) {
		cpu := ""
		if q != nil {
			cpu = fmt.Sprintf(", QEMU %.0f CPU-s", q.cpuSeconds())
		}
		t.Logf("[%s%s] %s", time.Since(start).Round(time.Second), cpu, fmt.Sprintf(format, args...))
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	id := ids(t, out)

	// Host side: PKI, broker and subscriber, the device key in a software
	// TPM, the fleet's command and release keys, the artifact server, the
	// hook's control server.
	pki, err := tlstest.WritePKI(filepath.Join(dir, "pki"), deviceID)
	if err != nil {
		t.Fatal(err)
	}
	broker := mosquittotest.Start(t, pki.Dir)
	mon := mosquittotest.Subscribe(t, broker, pki.Dir, "medagent/v1/#", mosquittotest.MonitorOptions{})
	brokerPort, _ := strconv.Atoi(broker.Addr[strings.LastIndexByte(broker.Addr, ':')+1:])
	tpmState, tpmPub := provisionTPM(t, dir, deviceID)
	deviceCert := issue(t, pki.CA, tpmPub, deviceID, nil, x509.ExtKeyUsageClientAuth)
	caPEM, err := os.ReadFile(pki.CA.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	ops, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rel, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	relFile := filepath.Join(dir, "release-key.pem")
	relDER, _ := x509.MarshalECPrivateKey(rel)
	os.WriteFile(relFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: relDER}), 0o600)
	opsPub, _ := x509.MarshalPKIXPublicKey(&ops.PublicKey)
	relPub, _ := x509.MarshalPKIXPublicKey(&rel.PublicKey)
	kr := filepath.Join(dir, "keyring.json")
	if _, err := keyring.Create(kr, []keyring.Key{{ID: "ops", PublicKey: opsPub}}, []keyring.Key{{ID: "rel", PublicKey: relPub}}); err != nil {
		t.Fatal(err)
	}
	krData, _ := os.ReadFile(kr)
	arts := filepath.Join(dir, "artifacts")
	os.MkdirAll(arts, 0o755)
	artPort := artifactServer(t, pki.CA, arts)
	ctl := newHookServer(t, filepath.Join(out, "reports"), logf)
	logf("host ready: broker %s, artifacts on :%d, control on :%d, device key in the TPM (%s)", broker.Addr, artPort, ctl.port, tpmState)

	// The disk: the image as built, and the data partition as provisioning
	// leaves it (no private key anywhere: the key is in the TPM).
	disk := filepath.Join(dir, "disk.img")
	run(t, "cp", "--sparse=always", filepath.Join(out, "disk.img"), disk)
	chip := filepath.Join(dir, "tmp117-chip")
	build := exec.Command("go", "build", "-trimpath", "-o", chip, "./tmp117chip")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./qemu/tmp117chip for arm64: %v\n%s", err, b)
	}
	chipBin, _ := os.ReadFile(chip)
	hook, _ := os.ReadFile("testdata/hook.sh")
	setup, _ := os.ReadFile("testdata/setup.sh")
	env := fmt.Sprintf("CTL=http://10.0.2.2:%d\nTEMP_NORMAL=%s\nTEMP_FEVER=%s\n", ctl.port, tempRegister(tempNormal), tempRegister(tempFever))
	acq, med := id["uid_medagent_acq"], id["gid_medagent"]
	writeData(t, dir, disk, []file{
		{"medagent", nil, 0o755, 0, 0},
		{"medagent/provision", nil, 0o750, 0, med},
		{"medagent/provision/medagent.yaml", []byte(deviceConfig(brokerPort)), 0o640, 0, med},
		{"medagent/provision/device.pem", deviceCert, 0o640, 0, med},
		{"medagent/provision/broker-ca.pem", caPEM, 0o640, 0, med},
		{"medagent/acquire", nil, 0o700, acq, id["gid_medagent_acq"]},
		{"medagent/acquire/keyring.json", krData, 0o600, acq, id["gid_medagent_acq"]},
		{"test", nil, 0o755, 0, 0},
		{"test/bench.env", []byte(env), 0o644, 0, 0},
		{"test/hook.sh", hook, 0o755, 0, 0},
		{"test/setup.sh", setup, 0o755, 0, 0},
		{"test/tmp117-chip", chipBin, 0o755, 0, 0},
	})

	// Boot. The clock starts in 2001 (the RTC of a board without a
	// battery); systemd moves it to its own build date, still before the
	// certificates' validity.
	q = startQEMU(ctx, t, qemuBin, out, disk, dir, tpmState)
	sim := feedOximeter(ctx, t, dir, q.noninSock)
	sim.SetNumerics(72, 96)
	artifactsDone := make(chan error, 1)
	go func() { artifactsDone <- writeArtifacts(out, arts, relFile) }()

	// 1. Release 1.0.0 with the clock in the past.
	con := q.con
	at := con.waitFor(t, 0, "medagent: booting slot 2 (upgrade_available=0", bootWait)
	boot, seen := ctl.wait(t, 0, "boot", bootWait)
	if !strings.Contains(boot.Body, "release 1.0.0 slot a") {
		t.Fatalf("first boot: %q, want release 1.0.0 on slot a", boot.Body)
	}
	logf("booted 1.0.0 on slot a: %s", oneLine(boot.Body))
	// systemd reports a taint (an unmerged /usr, say) before the agent starts.
	if l := con.find("System is tainted"); l != "" {
		t.Errorf("serial console: %s", l)
	}
	checkShipped(t, ctl, logf)
	offline(t, ctl, mon, id, logf)

	// 2. A signed update to 1.1.0 from the fleet.
	if err := <-artifactsDone; err != nil {
		t.Fatal(err)
	}
	logf("artifacts written")
	nonce := sendUpdate(t, mon, ops, artPort, arts, "B.mender")
	waitResult(t, mon, nonce, "accepted/fetch", stepWait)
	logf("update 1.1.0: accepted, downloading")
	r := waitResult(t, mon, nonce, "accepted/reboot-pending", updateWait)
	logf("update 1.1.0: installed, reboot held while the patient is monitored: %s", r.Error)
	holdsReboot(t, ctl, "1.0.0", logf)
	rel1 := ctl.run(t, "release", stepWait)
	if tr := parseTries(rel1.Body); len(tr) != 1 || tr[0].Exit != 0 {
		t.Fatalf("technician release: %s", rel1.Body)
	}
	waitResult(t, mon, nonce, "accepted/rebooting", stepWait)
	logf("technician released the reboot: %s", oneLine(rel1.Body))
	at = con.waitFor(t, at, "medagent: booting slot 3 (upgrade_available=1 bootcount=1", bootWait)
	boot, seen = ctl.wait(t, seen, "boot", bootWait)
	if !strings.Contains(boot.Body, "release 1.1.0 slot b") {
		t.Fatalf("trial boot: %q, want release 1.1.0 on slot b", boot.Body)
	}
	logf("trial boot of 1.1.0 on slot b")
	waitResult(t, mon, nonce, "done/", updateWait)
	n := len(mon.Messages())
	waitTelemetry(t, mon, n, "temp", stepWait)
	logf("1.1.0 committed by the agent's own checks, publishing")

	// The current copy of the boot environment is damaged: the board boots
	// 1.1.0, committed, from the other copy, and the agent carries on.
	dmg := ctl.run(t, "damage-env", stepWait)
	if !strings.Contains(dmg.Body, "damaged /uboot/") {
		t.Fatalf("damaging the boot environment: %q", dmg.Body)
	}
	logf("%s, rebooting", lastLine(dmg.Body, "damaged"))
	at = con.waitFor(t, at, "## Error: bad CRC, import failed", bootWait)
	at = con.waitFor(t, at, "medagent: booting slot 3 (upgrade_available=0", bootWait)
	boot, seen = ctl.wait(t, seen, "boot", bootWait)
	if !strings.Contains(boot.Body, "release 1.1.0 slot b") {
		t.Fatalf("after the damaged copy: %q, want release 1.1.0 on slot b", boot.Body)
	}
	n = len(mon.Messages())
	waitTelemetry(t, mon, n, "temp", stepWait)
	logf("U-Boot read the other copy: 1.1.0 boots committed and publishes")

	// 3. A broken update (1.2.0: its agent cannot start): rollback.
	nonce = sendUpdate(t, mon, ops, artPort, arts, "C.mender")
	waitResult(t, mon, nonce, "accepted/reboot-pending", updateWait)
	logf("update 1.2.0: installed, reboot held")
	if tr := parseTries(ctl.run(t, "release", stepWait).Body); len(tr) != 1 || tr[0].Exit != 0 {
		t.Fatalf("technician release: %+v", tr)
	}
	at = con.waitFor(t, at, "medagent: booting slot 2 (upgrade_available=1 bootcount=1", bootWait)
	boot, seen = ctl.wait(t, seen, "boot", bootWait)
	if !strings.Contains(boot.Body, "release 1.2.0 slot a") {
		t.Fatalf("trial boot: %q, want release 1.2.0 on slot a", boot.Body)
	}
	at = con.waitFor(t, at, "medagent: broken build: refusing to start", bootWait)
	logf("trial boot of 1.2.0: its agent does not start")
	at = con.waitFor(t, at, "medagent: bootcount 2 > bootlimit 1: rolling back", bootWait)
	at = con.waitFor(t, at, "medagent: booting slot 3 (upgrade_available=0 bootcount=0", bootWait)
	boot, seen = ctl.wait(t, seen, "boot", bootWait)
	if !strings.Contains(boot.Body, "release 1.1.0 slot b") {
		t.Fatalf("after the fallback: %q, want release 1.1.0 on slot b", boot.Body)
	}
	r = waitResult(t, mon, nonce, "failed/", updateWait)
	if !strings.Contains(r.Error, "roll") {
		t.Errorf("failed result %q does not say it rolled back", r.Error)
	}
	logf("U-Boot fell back to 1.1.0; cmd-result failed: %s", r.Error)
	n = len(mon.Messages())
	waitTelemetry(t, mon, n, "spo2", stepWait)
	logf("1.1.0 publishing again")

	// 4. The board that rolled back takes the next good update (1.3.0)
	// into the slot the broken one left, and commits it.
	nonce = sendUpdate(t, mon, ops, artPort, arts, "D.mender")
	waitResult(t, mon, nonce, "accepted/reboot-pending", updateWait)
	logf("update 1.3.0 after the rollback: installed, reboot held")
	if tr := parseTries(ctl.run(t, "release", stepWait).Body); len(tr) != 1 || tr[0].Exit != 0 {
		t.Fatalf("technician release: %+v", tr)
	}
	waitResult(t, mon, nonce, "accepted/rebooting", stepWait)
	at = con.waitFor(t, at, "medagent: booting slot 2 (upgrade_available=1 bootcount=1", bootWait)
	boot, seen = ctl.wait(t, seen, "boot", bootWait)
	if !strings.Contains(boot.Body, "release 1.3.0 slot a") {
		t.Fatalf("trial boot after the rollback: %q, want release 1.3.0 on slot a", boot.Body)
	}
	logf("trial boot of 1.3.0 on slot a")
	waitResult(t, mon, nonce, "done/", updateWait)
	n = len(mon.Messages())
	waitTelemetry(t, mon, n, "temp", stepWait)
	logf("1.3.0 committed by the agent's own checks, publishing")

	// 5. One process (role all, medagent.service) instead of the split
	// units, as a small board runs it.
	roleAll(t, ctl, mon, id, logf)

	ctl.run(t, "poweroff", stepWait)
	q.wait(t, bootWait)
	logf("powered off")
	_ = at
	e := bootEnv(t, dir, disk)
	// A commit clears upgrade_available only (Mender's semantics): the
	// boot script counts boots only while it is 1, so the one trial boot
	// of 1.3.0 may stay counted (the next install arms it with 0).
	if e["mender_boot_part"] != "2" || e["upgrade_available"] != "0" || (e["bootcount"] != "0" && e["bootcount"] != "1") {
		t.Fatalf("fw_printenv on the disk afterwards: %v; want slot 2 (1.3.0) committed (upgrade_available=0, bootcount 0 or the one trial boot)", e)
	}
	logf("fw_printenv: mender_boot_part=%s upgrade_available=%s bootcount=%s", e["mender_boot_part"], e["upgrade_available"], e["bootcount"])
}

// writeArtifacts signs the three updates with the release key.
func writeArtifacts(out, dst, key string) error {
	for _, a := range []struct{ name, rootfs, version string }{
		{"B.mender", "rootfs-B.ext4", "1.1.0"}, {"C.mender", "rootfs-C.ext4", "1.2.0"}, {"D.mender", "rootfs-D.ext4", "1.3.0"},
	} {
		b, err := exec.Command("mender-artifact", "write", "rootfs-image", "-f", filepath.Join(out, a.rootfs),
			"-n", "medagent-"+a.version, "-t", deviceType, "-k", key, "-o", filepath.Join(dst, a.name)).CombinedOutput()
		if err != nil {
			return fmt.Errorf("mender-artifact write %s: %v\n%s", a.name, err, b)
		}
	}
	return nil
}

// sendUpdate publishes a signed update command naming the artifact's URL
// and digest; it returns the command's nonce.
func sendUpdate(t *testing.T, mon *mosquittotest.Monitor, ops *ecdsa.PrivateKey, port int, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	e := &command.Envelope{V: command.Version, Device: deviceID, Name: command.Update,
		Args:     map[string]string{"url": fmt.Sprintf("https://10.0.2.2:%d/%s", port, name), "digest": fmt.Sprintf("sha256:%x", sha256.Sum256(b))},
		IssuedAt: now.Unix(), ExpiresAt: now.Add(2 * time.Hour).Unix(), Nonce: command.NewNonce()}
	if err := command.Sign(e, "ops", ops); err != nil {
		t.Fatal(err)
	}
	mon.Publish(t, "medagent/v1/"+deviceID+"/cmd/update", e.Marshal())
	return command.ResultFor("", now, e.Marshal(), command.Command{}, command.ErrMalformed, nil).Nonce
}

// waitResult waits for the command's result with status/phase want.
func waitResult(t *testing.T, mon *mosquittotest.Monitor, nonce, want string, timeout time.Duration) command.Result {
	t.Helper()
	var found command.Result
	mon.WaitFor(t, timeout, "cmd-result "+want, func(ms []mosquittotest.Message) bool {
		for _, m := range ms {
			var r command.Result
			if m.Topic == "medagent/v1/"+deviceID+"/cmd-result" && json.Unmarshal(m.Payload, &r) == nil && r.Nonce == nonce {
				if r.Status == "failed" && !strings.HasPrefix(want, "failed") {
					t.Fatalf("waiting for %s: the command failed: %s", want, r.Error)
				}
				if r.Status+"/"+r.Phase == want {
					found = r
					return true
				}
			}
		}
		return false
	})
	return found
}

// packs decodes the telemetry of one sensor from messages.
func packs(t *testing.T, ms []mosquittotest.Message, sensor string) []senml.Resolved {
	t.Helper()
	var ps []senml.Resolved
	for _, m := range ms {
		if m.Topic != "medagent/v1/"+deviceID+"/telemetry/"+sensor {
			continue
		}
		p, err := senml.Decode(m.Payload, senml.JSON)
		if err != nil {
			t.Fatalf("%s: %v", m.Topic, err)
		}
		ps = append(ps, p)
	}
	return ps
}

// waitTelemetry waits for telemetry of sensor after message index from.
func waitTelemetry(t *testing.T, mon *mosquittotest.Monitor, from int, sensor string, timeout time.Duration) {
	t.Helper()
	mon.WaitFor(t, timeout, "telemetry/"+sensor, func(ms []mosquittotest.Message) bool {
		return len(packs(t, ms[min(from, len(ms)):], sensor)) > 0
	})
}

// values returns the values of records named name (e.g. MDC_TEMP_BODY),
// with its window statistics (name/min, name/max ...).
func values(ps []senml.Resolved, name string) []float64 {
	var vs []float64
	for _, p := range ps {
		for _, r := range p.Records {
			if r.Value != nil && (strings.HasSuffix(r.Name, ":"+name) || strings.Contains(r.Name, ":"+name+"/")) {
				vs = append(vs, *r.Value)
			}
		}
	}
	return vs
}

var exposureRE = regexp.MustCompile(`Overall exposure level for (\S+): ([0-9.]+)`)

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
