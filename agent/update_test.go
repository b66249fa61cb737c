package agent

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"medagent/acquire/simbench"
	"medagent/config"
	"medagent/update/bootenv"
)

// The clinical-use lock with the real agent: while the simulated patient is
// monitored, a signed update is installed into slot B and the trial boot is
// armed, but the agent does not reboot; ForceReboot (the technician) does.
func TestUpdateWaitsWhilePatientMonitored(t *testing.T) {
	cfg := testConfig(t)
	fx := newUpdateFixture(t, &cfg)
	dir, art, img := fx.dir, fx.art, fx.img
	cfg.Update.Keys = []string{fx.pubFile}
	fwcfg := cfg.Update.FWEnvConfig
	rebooted := filepath.Join(dir, "rebooted")
	cfg.Update.RebootCommand = []string{"touch", rebooted}

	a, err := New(Options{Config: cfg, Role: RoleAcquire, Logger: quiet, Bench: simbench.New})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(30 * time.Second)
	for !a.acq.acq.Monitoring(cfg.Update.MonitoringGrace) {
		if time.Now().After(deadline) {
			t.Fatal("no valid vitals from the simulated patient within 30 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	installed := make(chan error, 1)
	go func() {
		f, err := os.Open(art)
		if err != nil {
			installed <- err
			return
		}
		defer f.Close()
		installed <- a.upd.Install(ctx, f)
	}()
	for !a.upd.Status().RebootPending {
		select {
		case err := <-installed:
			t.Fatalf("install ended without waiting for the patient: %v (status %+v)", err, a.upd.Status())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline.Add(30 * time.Second)) {
			t.Fatalf("no reboot-pending state; status %+v", a.upd.Status())
		}
	}
	if _, err := os.Stat(rebooted); err == nil {
		t.Fatal("rebooted while a patient was monitored")
	}
	bcfg, _ := bootenv.ReadConfigFile(fwcfg)
	env, _ := bootenv.NewUBoot(bcfg)
	vars, err := env.ReadEnv("upgrade_available", "mender_boot_part", "bootcount")
	if err != nil {
		t.Fatal(err)
	}
	if vars["upgrade_available"] != "1" || vars["mender_boot_part"] != "3" || vars["bootcount"] != "0" {
		t.Errorf("boot environment %v, want the trial boot of slot B armed", vars)
	}
	b, _ := os.ReadFile(cfg.Update.SlotB)
	if !bytes.Equal(b[:len(img)], img) {
		t.Error("slot B does not hold the image")
	}
	if r := a.upd.Status().PendingReason; !strings.Contains(strings.ToLower(r), "monitor") {
		t.Errorf("pending reason %q does not say a patient is monitored", r)
	}
	a.upd.ForceReboot()
	select {
	case err := <-installed:
		if err != nil {
			t.Fatalf("install after ForceReboot: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("ForceReboot did not reboot within 30 s")
	}
	if _, err := os.Stat(rebooted); err != nil {
		t.Error("the reboot command did not run after ForceReboot")
	}
}

// updateFixture is a boot environment (slot A running), two 1 MiB file
// slots and a 512 KiB image in an artifact signed by mender-artifact with
// a fresh P-256 key, set up in cfg.Update (enabled, keys left to the test).
type updateFixture struct {
	dir, art, pubFile string
	pubDER, img       []byte
}

func newUpdateFixture(t *testing.T, cfg *config.Config) updateFixture {
	t.Helper()
	for _, tool := range []string{"mender-artifact", "mkenvimage"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: install Debian packages mender-artifact u-boot-tools (scripts/setup.sh)", tool)
		}
	}
	dir := t.TempDir()
	run := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, out)
		}
	}
	envTxt := filepath.Join(dir, "env.txt")
	os.WriteFile(envTxt, []byte("mender_boot_part=2\nmender_boot_part_hex=2\nupgrade_available=0\nbootcount=0\n"), 0o600)
	envBin := filepath.Join(dir, "env.bin")
	run("mkenvimage", "-s", "0x4000", "-o", envBin, envTxt)
	fwcfg := filepath.Join(dir, "fw_env.config")
	os.WriteFile(fwcfg, []byte(envBin+" 0x0 0x4000\n"), 0o600)
	for _, s := range []string{"slotA", "slotB"} {
		os.WriteFile(filepath.Join(dir, s), make([]byte, 1<<20), 0o600)
	}
	fx := updateFixture{dir: dir, art: filepath.Join(dir, "release-2.mender"), pubFile: filepath.Join(dir, "sign.pub")}
	fx.img = make([]byte, 512<<10)
	rand.Read(fx.img)
	os.WriteFile(filepath.Join(dir, "rootfs.ext4"), fx.img, 0o600)
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalECPrivateKey(k)
	os.WriteFile(filepath.Join(dir, "sign.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600)
	fx.pubDER, _ = x509.MarshalPKIXPublicKey(&k.PublicKey)
	os.WriteFile(fx.pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: fx.pubDER}), 0o600)
	run("mender-artifact", "write", "rootfs-image", "-f", filepath.Join(dir, "rootfs.ext4"), "-n", "release-2",
		"-t", cfg.Device.Type, "-o", fx.art, "-k", filepath.Join(dir, "sign.pem"))
	cfg.Update.Enabled = true
	cfg.Update.Journal = filepath.Join(dir, "update.journal")
	cfg.Update.FWEnvConfig = fwcfg
	cfg.Update.SlotA, cfg.Update.SlotB = filepath.Join(dir, "slotA"), filepath.Join(dir, "slotB")
	// The boot loader booted slot A and says so on the kernel command line.
	cfg.Update.Cmdline = filepath.Join(dir, "cmdline")
	if err := os.WriteFile(cfg.Update.Cmdline, []byte("console=ttyS0 medagent.slot=a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return fx
}
