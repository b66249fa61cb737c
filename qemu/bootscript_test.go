//go:build qemu

package qemu

// The torn-write matrix of the redundant boot environment, run by Debian's
// qemu_arm64 U-Boot on the real boot script (meta-medagent's boot.cmd with
// qemu/machine.conf). No kernel: the test disk has only the FAT boot
// partition, so the script prints its decision ("medagent: booting slot
// ..."), ext4load fails, the script resets and QEMU (-no-reboot) exits. The
// test then reads both environment copies back from the disk with
// medagent's bootenv and with fw_printenv.
//
// Every write to the environment, by the agent (arm, commit, rollback) or by
// U-Boot itself (trial count, fallback), is cut at every 512-byte boundary
// of the copy it writes, for both copies: the first k bytes new, the rest
// as before. Each resulting disk boots the committed slot or a trial of the
// new one, the slot the reference rule (newest valid copy, Mender's
// bootcount/bootlimit) says, and leaves an environment both readers agree on.
// Cases whose two copies are byte-identical to an earlier case's share its
// boot (U-Boot is deterministic); the log says how many boots ran.

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"medagent/update/bootenv"
)

const (
	envSize   = 0x4000 // MEDAGENT_ENV_SIZE in machine.conf
	envFile1  = "uboot.env"
	envFile2  = "uboot-redund.env"
	ubootWait = 2 * time.Minute
)

// envState is the pair of environment copies on the boot partition.
type envState [2][]byte

func (s envState) key() [32]byte {
	return sha256.Sum256(append(append([]byte{}, s[0]...), s[1]...))
}

// padding stands for variables a maker keeps beside the boot variables
// (fw_setenv): it spreads the environment over several 512-byte sectors so
// that cuts fall inside the data, before and after the boot variables.
func padding(vars map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range vars {
		out[k] = v
	}
	for i := 0; i < 12; i++ {
		for _, p := range []string{"board", "maker", "zz"} {
			out[fmt.Sprintf("%s_pad%02d", p, i)] = strings.Repeat(string(rune('a'+i)), 90)
		}
	}
	return out
}

// encode is one copy as the agent (update/bootenv) writes it.
func encode(t *testing.T, vars map[string]string, flag byte) []byte {
	t.Helper()
	b, err := bootenv.EncodeUBoot(padding(vars), envSize, true, flag)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// bootResult is what one U-Boot run decided and left on the disk.
type bootResult struct {
	part, upgrade, bootcount string
	slotArg                  string // medagent.slot= of the bootargs
	after                    envState
	env                      map[string]string // bootenv's reading of after
	fwenv                    map[string]string // fw_printenv's
	console                  string
}

// ubootRig runs the boot script on disks made of an MBR template and a FAT
// template (boot.scr) with the two copies added.
type ubootRig struct {
	dir, mbr, fat, ubootBin string
	mu                      sync.Mutex
	boots                   int
}

func newUbootRig(t *testing.T) *ubootRig {
	t.Helper()
	for _, tool := range [][2]string{{"qemu-system-aarch64", "qemu-system-arm"}, {"mkimage", "u-boot-tools"},
		{"mkfs.vfat", "dosfstools"}, {"mcopy", "mtools"}, {"sfdisk", "fdisk"}, {"fw_printenv", "libubootenv-tool"}} {
		needTool(t, tool[0], tool[1])
	}
	r := &ubootRig{dir: t.TempDir(), ubootBin: "/usr/lib/u-boot/qemu_arm64/u-boot.bin"}
	if _, err := os.Stat(r.ubootBin); err != nil {
		t.Fatalf("%v: install Debian package u-boot-qemu (scripts/setup.sh)", err)
	}
	run(t, "bash", "boot-script.sh", "machine.conf", r.dir)
	r.fat = filepath.Join(r.dir, "boot.vfat")
	run(t, "mkfs.vfat", "-C", "-n", "BOOT", r.fat, "4096")
	run(t, "mcopy", "-i", r.fat, filepath.Join(r.dir, "boot.scr"), "::/")
	disk := filepath.Join(r.dir, "layout.img")
	if err := os.WriteFile(disk, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(disk, 5<<20); err != nil {
		t.Fatal(err)
	}
	sf := exec.Command("sfdisk", "-q", disk)
	sf.Stdin = strings.NewReader("label: dos\nstart=1MiB, size=4MiB, type=c, bootable\n")
	if out, err := sf.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk: %v\n%s", err, out)
	}
	b, err := os.ReadFile(disk)
	if err != nil {
		t.Fatal(err)
	}
	r.mbr = filepath.Join(r.dir, "mbr.bin")
	if err := os.WriteFile(r.mbr, b[:1<<20], 0o644); err != nil {
		t.Fatal(err)
	}
	return r
}

var bootLine = regexp.MustCompile(`medagent: booting slot (\S+) \(upgrade_available=(\S*) bootcount=(\S*) bootlimit=`)
var slotArg = regexp.MustCompile(`medagent: bootargs .*medagent\.slot=(\S+)`)

// boot runs U-Boot on a disk holding st and returns what it did.
func (r *ubootRig) boot(t *testing.T, name string, st envState) bootResult {
	t.Helper()
	r.mu.Lock()
	r.boots++
	n := r.boots
	r.mu.Unlock()
	dir := filepath.Join(r.dir, fmt.Sprintf("case%03d", n))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	fat := filepath.Join(dir, "boot.vfat")
	run(t, "cp", r.fat, fat)
	for i, f := range []string{envFile1, envFile2} {
		p := filepath.Join(dir, f)
		if err := os.WriteFile(p, st[i], 0o644); err != nil {
			t.Fatal(err)
		}
		run(t, "mcopy", "-i", fat, p, "::/")
	}
	mbr, _ := os.ReadFile(r.mbr)
	fb, _ := os.ReadFile(fat)
	disk := filepath.Join(dir, "disk.img")
	if err := os.WriteFile(disk, append(mbr, fb...), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a57", "-m", "256", "-nographic", "-no-reboot",
		"-bios", r.ubootBin, "-nic", "none",
		"-drive", "if=none,file="+disk+",format=raw,id=hd0", "-device", "virtio-blk-device,drive=hd0")
	var con bytes.Buffer
	cmd.Stdout, cmd.Stderr = &con, &con
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s: qemu: %v\n%s", name, err, con.String())
		}
	case <-time.After(ubootWait):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%s: U-Boot did not reset within %v:\n%s", name, ubootWait, con.String())
	}
	res := bootResult{console: con.String()}
	m := bootLine.FindStringSubmatch(res.console)
	if m == nil {
		t.Fatalf("%s: no decision on the console:\n%s", name, res.console)
	}
	res.part, res.upgrade, res.bootcount = m[1], m[2], m[3]
	if m := slotArg.FindStringSubmatch(res.console); m != nil {
		res.slotArg = m[1]
	}
	// Read both copies back from the FAT partition of the disk.
	cfg := bootenv.Config{LockFile: filepath.Join(dir, "lock")}
	var fw strings.Builder
	for i, f := range []string{envFile1, envFile2} {
		p := filepath.Join(dir, "after-"+f)
		run(t, "mcopy", "-n", "-o", "-i", disk+"@@1M", "::/"+f, p)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		res.after[i] = b
		cfg.Copies = append(cfg.Copies, bootenv.Location{Path: p, Size: envSize})
		fmt.Fprintf(&fw, "%s 0x0 %#x\n", p, envSize)
	}
	u, err := bootenv.NewUBoot(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.env, err = u.ReadEnv(); err != nil {
		t.Fatalf("%s: bootenv cannot read the environment U-Boot left: %v\n%s", name, err, res.console)
	}
	fwCfg := filepath.Join(dir, "fw_env.config")
	if err := os.WriteFile(fwCfg, []byte(fw.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	res.fwenv = printenv(t, fwCfg)
	os.Remove(disk)
	os.Remove(fat)
	return res
}

func printenv(t *testing.T, cfg string) map[string]string {
	t.Helper()
	out, err := exec.Command("fw_printenv", "-c", cfg).CombinedOutput()
	if err != nil {
		t.Fatalf("fw_printenv -c %s: %v\n%s", cfg, err, out)
	}
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = v
		}
	}
	return m
}

// readState is what the agent (and libubootenv) read from st.
func readState(t *testing.T, st envState) (map[string]string, error) {
	t.Helper()
	dir := t.TempDir()
	cfg := bootenv.Config{LockFile: filepath.Join(dir, "lock")}
	for i, b := range st {
		p := filepath.Join(dir, fmt.Sprint(i))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		cfg.Copies = append(cfg.Copies, bootenv.Location{Path: p, Size: envSize})
	}
	u, err := bootenv.NewUBoot(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return u.ReadEnv()
}
