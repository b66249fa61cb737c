package yoctolayer

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The A/B disk is described in four places: the wks layout, the fstab of
// medagent-image.bbclass, the boot script and fw_env.config. All four take
// their device names, partition numbers and environment files from
// classes/medagent-storage.bbclass; these tests hold them to it.

const (
	storageClass = "meta-medagent/classes/medagent-storage.bbclass"
	imageClass   = "meta-medagent/classes/medagent-image.bbclass"
	bootRecipe   = "meta-medagent/recipes-bsp/medagent-boot-script/medagent-boot-script.bb"
	bootCmd      = "meta-medagent/recipes-bsp/medagent-boot-script/files/boot.cmd"
	wksFile      = "meta-medagent/wic/medagent-ab.wks.in"
)

func readText(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestWKSLayout(t *testing.T) {
	storage := mustParse(t, storageClass)
	var parts []string
	for _, l := range strings.Split(readText(t, wksFile), "\n") {
		if strings.HasPrefix(l, "part ") {
			parts = append(parts, l)
		}
	}
	if len(parts) != 4 {
		t.Fatalf("%d partitions, want boot, rootfs A, rootfs B, data", len(parts))
	}
	has := func(i int, s ...string) {
		for _, x := range s {
			if !strings.Contains(parts[i], x) {
				t.Errorf("partition %d %q lacks %q", i+1, parts[i], x)
			}
		}
	}
	// Partition numbers are the order in the wks file.
	for name, i := range map[string]int{"MEDAGENT_BOOT_PART": 0, "MEDAGENT_ROOT_PART_A": 1, "MEDAGENT_ROOT_PART_B": 2, "MEDAGENT_DATA_PART": 3} {
		if want := string(rune('1' + i)); storage.vars[name] != want {
			t.Errorf("%s = %q but the wks has that partition at %s", name, storage.vars[name], want)
		}
	}
	has(0, "--fstype=vfat", "--active", "--source bootimg-partition")
	has(1, "part / ", "--source rootfs", "--fstype=ext4", "--label rootA")
	has(2, "--source rootfs", "--fstype=ext4", "--label rootB")
	has(3, "--fstype=ext4", "--label data")
	for i, p := range parts {
		if !strings.Contains(p, "--ondisk ${MEDAGENT_STORAGE_DISK}") {
			t.Errorf("partition %d %q: want --ondisk ${MEDAGENT_STORAGE_DISK}", i+1, p)
		}
		// The mounts live in the rootfs' fstab (an update's rootfs needs
		// them too); wic must not add lines of its own.
		if f := strings.Fields(p); i != 1 && len(f) > 1 && strings.HasPrefix(f[1], "/") {
			t.Errorf("partition %d %q has a mount point: wic would add it to the wic image's fstab only", i+1, p)
		}
	}
	size := regexp.MustCompile(`--fixed-size (\S+)`)
	if a, b := size.FindString(parts[1]), size.FindString(parts[2]); a == "" || a != b {
		t.Errorf("rootfs A and B sizes differ: %q vs %q", a, b)
	}
}

func TestFstab(t *testing.T) {
	text := readText(t, imageClass)
	for _, want := range []string{
		"${MEDAGENT_KERNEL_ROOT_PREFIX}${MEDAGENT_BOOT_PART}\t${MEDAGENT_BOOT_MOUNT}\tvfat\t",
		"${MEDAGENT_KERNEL_ROOT_PREFIX}${MEDAGENT_DATA_PART}\t${MEDAGENT_DATA_MOUNT}\text4\t",
		"${MEDAGENT_DATA_MOUNT}/medagent\t${localstatedir}/lib/medagent\tnone\tbind,x-systemd.requires=medagent-datadir.service\t",
		`ROOTFS_POSTPROCESS_COMMAND += "medagent_fstab"`,
		`WKS_FILE = "medagent-ab.wks.in"`,
		// The boot partition: the script and both environment copies.
		`IMAGE_BOOT_FILES = "boot.scr ${MEDAGENT_ENV_FILE1} ${MEDAGENT_ENV_FILE2}"`,
		`do_image_wic[depends] += "medagent-boot-script:do_deploy"`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("medagent-image.bbclass lacks %q", want)
		}
	}
	// The unit that makes /data/medagent before the bind mount.
	u, err := parseUnit(filepath.Join("..", "configs", "systemd", "medagent-datadir.service"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(u.get("Unit", "Before"), "var-lib-medagent.mount") || u.get("Unit", "RequiresMountsFor") != "/data" ||
		!strings.Contains(u.get("Service", "ExecStart"), "mkdir -p") || !strings.HasSuffix(u.get("Service", "ExecStart"), "/data/medagent") {
		t.Errorf("medagent-datadir.service does not create /data/medagent after /data and before var-lib-medagent.mount: %v", u)
	}
}

// bootPlaceholders returns the @@NAME@@ placeholders of boot.cmd.
func bootPlaceholders(t *testing.T) []string {
	t.Helper()
	var names []string
	for _, m := range regexp.MustCompile(`@@([A-Za-z0-9_]+)@@`).FindAllStringSubmatch(readText(t, bootCmd), -1) {
		if !slices.Contains(names, m[1]) {
			names = append(names, m[1])
		}
	}
	return names
}

func TestBootScript(t *testing.T) {
	s := readText(t, bootCmd)
	for _, v := range []string{"mender_boot_part", "mender_boot_part_hex", "upgrade_available", "bootcount", "bootlimit", "altbootcmd",
		"setexpr bootcount ${bootcount} + 1", "env import -c", "env export -c", "fatwrite", "medagent.slot=${medagent_slot}"} {
		if !strings.Contains(s, v) {
			t.Errorf("boot.cmd lacks %q", v)
		}
	}
	// Device names, the kernel and how to boot it come from the machine
	// (through the class), never from the script itself.
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if m := regexp.MustCompile(`virtio|mmc |/dev/vd|/dev/mmcblk|/dev/sd|ttyAMA|ttyS|/boot/(Image|zImage)|^\s*boot[izm] `).FindString(line); m != "" {
			t.Errorf("boot.cmd names %q itself: use the @@...@@ values of medagent-storage.bbclass: %s", m, line)
		}
	}
	// Every placeholder is filled in by the recipe and defined by the class.
	recipe := readText(t, bootRecipe)
	storage := mustParse(t, storageClass)
	values := map[string]string{"KERNEL_IMAGETYPE": "Image"}
	for _, name := range bootPlaceholders(t) {
		if !strings.Contains(recipe, "s|@@"+name+"@@|${"+name+"}|g") {
			t.Errorf("boot.cmd uses @@%s@@ but medagent-boot-script.bb does not fill it in", name)
		}
		if _, ok := storage.vars[name]; !ok && name != "KERNEL_IMAGETYPE" {
			t.Errorf("boot.cmd uses @@%s@@, which medagent-storage.bbclass does not define", name)
		}
		v := storage.vars[name]
		if strings.Contains(v, "${") || v == "" {
			v = map[string]string{"MEDAGENT_UBOOT_DEV": "virtio", "MEDAGENT_ROOT_PART_A_HEX": "2", "MEDAGENT_ROOT_PART_B_HEX": "3",
				"MEDAGENT_KERNEL_ROOT_PREFIX": "/dev/vda", "MEDAGENT_CONSOLE": "ttyAMA0", "MEDAGENT_KERNEL_BOOTCMD": "booti"}[name]
		}
		if v == "" {
			v = values[name]
		}
		values[name] = v
	}
	// The initrd is loaded only if the slot has one: no recipe of this
	// layer builds an initramfs.
	if strings.Contains(s, "/boot/initrd") && !regexp.MustCompile(`if ext4load [^\n]*/boot/initrd`).MatchString(s) {
		t.Error("boot.cmd loads /boot/initrd unconditionally: the Yocto image has none")
	}
	// The mkimage architecture comes from kernel-arch.bbclass (UBOOT_ARCH).
	r := mustParse(t, bootRecipe)
	if !slices.Contains(r.inherit, "kernel-arch") || !strings.Contains(recipe, "mkimage -A ${UBOOT_ARCH} ") {
		t.Error("medagent-boot-script.bb must inherit kernel-arch for UBOOT_ARCH and pass it to mkimage -A")
	}
	// The initial environment: both copies, in the redundant layout.
	for _, want := range []string{"mkenvimage -r -s ${MEDAGENT_ENV_SIZE} -o ${B}/${MEDAGENT_ENV_FILE1}", "${B}/${MEDAGENT_ENV_FILE2}",
		"install -m 0644 ${B}/${MEDAGENT_ENV_FILE1} ${B}/${MEDAGENT_ENV_FILE2} ${DEPLOYDIR}/"} {
		if !strings.Contains(recipe, want) {
			t.Errorf("medagent-boot-script.bb lacks %q", want)
		}
	}
	if r.vars["PACKAGE_ARCH"] != "${MACHINE_ARCH}" {
		t.Errorf("PACKAGE_ARCH = %q: the script names the machine's devices", r.vars["PACKAGE_ARCH"])
	}

	rendered := s
	for name, v := range values {
		rendered = strings.ReplaceAll(rendered, "@@"+name+"@@", v)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "boot.cmd"), []byte(rendered), 0o644)
	mkimage, err := exec.LookPath("mkimage")
	if err != nil {
		t.Fatal("mkimage not found: install Debian package u-boot-tools (scripts/setup.sh)")
	}
	if o, err := exec.Command(mkimage, "-A", "arm64", "-O", "linux", "-T", "script", "-C", "none", "-d", filepath.Join(dir, "boot.cmd"), filepath.Join(dir, "boot.scr")).CombinedOutput(); err != nil {
		t.Fatalf("mkimage: %v\n%s", err, o)
	}
}

// fw_env.config (configs/, installed by the agent recipe and the bench
// image) names the environment copies that the boot script reads and writes.
// The recipe installs the one at SRCREV: both must agree.
func TestFwEnvConfig(t *testing.T) {
	for _, dir := range []string{"..", srcTree(t, recipeSRCREV(t))} {
		checkFwEnvConfig(t, filepath.Join(dir, "configs", "fw_env.config"))
	}
}

func checkFwEnvConfig(t *testing.T, path string) {
	t.Helper()
	storage := mustParse(t, storageClass)
	var lines [][]string
	for _, l := range strings.Split(readText(t, path), "\n") {
		if f := strings.Fields(l); len(f) > 0 && !strings.HasPrefix(f[0], "#") {
			lines = append(lines, f)
		}
	}
	copies := []string{storage.vars["MEDAGENT_ENV_FILE1"]}
	if slices.Contains(bootPlaceholders(t), "MEDAGENT_ENV_FILE2") {
		copies = append(copies, storage.vars["MEDAGENT_ENV_FILE2"])
	}
	if len(lines) != len(copies) {
		t.Fatalf("%s has %d environment copies, the boot script %d (%v)", path, len(lines), len(copies), copies)
	}
	for i, f := range lines {
		want := storage.vars["MEDAGENT_BOOT_MOUNT"] + "/" + copies[i]
		if len(f) < 3 || f[0] != want || f[1] != "0x0000" || f[2] != storage.vars["MEDAGENT_ENV_SIZE"] {
			t.Errorf("%s line %d = %v, want %s 0x0000 %s", path, i+1, f, want, storage.vars["MEDAGENT_ENV_SIZE"])
		}
	}
}

// The update engine writes the slots named in the product configuration:
// for the default disk of the class (mmcblk0) they must be the wks layout's
// slot partitions. A machine with another disk sets update.slot_a/slot_b in
// the device configuration it provisions (README.md, Machine settings).
func TestProductConfigSlots(t *testing.T) {
	storage := mustParse(t, storageClass)
	cfg := readText(t, filepath.Join("..", "configs", "medagent.yaml"))
	want := map[string]string{
		"slot_a": "/dev/mmcblk0p" + storage.vars["MEDAGENT_ROOT_PART_A"],
		"slot_b": "/dev/mmcblk0p" + storage.vars["MEDAGENT_ROOT_PART_B"],
		"part_a": `"` + storage.vars["MEDAGENT_ROOT_PART_A"] + `"`,
		"part_b": `"` + storage.vars["MEDAGENT_ROOT_PART_B"] + `"`,
	}
	for k, v := range want {
		if !regexp.MustCompile(`(?m)^\s+` + k + `: ` + regexp.QuoteMeta(v) + `\s*$`).MatchString(cfg) {
			t.Errorf("configs/medagent.yaml: update.%s is not %s (the wks layout on mmcblk0)", k, v)
		}
	}
	if !strings.Contains(readText(t, storageClass), `else 'mmcblk0'}"`) {
		t.Error("medagent-storage.bbclass: the default disk is no longer mmcblk0; update this test and configs/medagent.yaml")
	}
}

// The fstab lines of medagent-image.bbclass, rendered for a virtio disk and
// read by systemd's own fstab generator: /uboot and /data are mounted from
// the wks partitions, and the bind mount of the agent's state waits for
// medagent-datadir.service.
func TestFstabSystemd(t *testing.T) {
	gen := "/lib/systemd/system-generators/systemd-fstab-generator"
	if _, err := os.Stat(gen); err != nil {
		t.Fatalf("%s not found: install Debian package systemd (scripts/setup.sh)", gen)
	}
	text := readText(t, imageClass)
	start, end := strings.Index(text, "<<FSTAB\n"), strings.Index(text, "\nFSTAB\n")
	if start < 0 || end < start {
		t.Fatal("medagent-image.bbclass: no <<FSTAB here-document")
	}
	storage := mustParse(t, storageClass)
	vars := map[string]string{"MEDAGENT_KERNEL_ROOT_PREFIX": "/dev/vda", "localstatedir": "/var"}
	for k, v := range storage.vars {
		if !strings.Contains(v, "${") {
			vars[k] = v
		}
	}
	fstab := regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`).ReplaceAllStringFunc(text[start+len("<<FSTAB\n"):end+1], func(m string) string {
		v, ok := vars[m[2:len(m)-1]]
		if !ok {
			t.Fatalf("fstab uses %s, which this test does not know", m)
		}
		return v
	})
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "fstab"), []byte(fstab), 0o644)
	out := filepath.Join(dir, "units")
	os.Mkdir(out, 0o755)
	cmd := exec.Command(gen, out, out, out)
	cmd.Env = append(os.Environ(), "SYSTEMD_FSTAB="+filepath.Join(dir, "fstab"), "SYSTEMD_PROC_CMDLINE=")
	if o, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("systemd-fstab-generator: %v\n%s", err, o)
	}
	for unit, want := range map[string][]string{
		"uboot.mount":            {"What=/dev/vda1", "Where=/uboot", "Type=vfat"},
		"data.mount":             {"What=/dev/vda4", "Where=/data", "Type=ext4"},
		"var-lib-medagent.mount": {"What=/data/medagent", "Where=/var/lib/medagent", "Requires=medagent-datadir.service", "After=medagent-datadir.service"},
	} {
		b, err := os.ReadFile(filepath.Join(out, unit))
		if err != nil {
			t.Errorf("the generator made no %s from the fstab:\n%s", unit, fstab)
			continue
		}
		for _, w := range want {
			if !strings.Contains(string(b), w+"\n") {
				t.Errorf("%s lacks %s:\n%s", unit, w, b)
			}
		}
	}
}
