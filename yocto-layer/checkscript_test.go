package yoctolayer

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// make yocto-check must fail on check-layer.sh's failure and on any warning
// that comes from this layer, and only on those: poky's own warnings (an
// offline build cannot fetch uninative) are not the layer's.
func TestYoctoCheckScript(t *testing.T) {
	tests := []struct {
		name   string
		output string
		exit   int
		fail   bool
	}{
		{"clean", "== bitbake -p\ncheck-layer: parsed, and dry run passed\n", 0, false},
		{"poky's warnings", "WARNING: Disabling uninative as unable to fetch uninative tarball: /var/tmp/check-layer.X/build/downloads/x\nWARNING: Host distribution \"debian-12\" has not been validated\n", 0, false},
		{"recipe warning", "WARNING: medagent-0.1+git-r0 do_package_qa: QA Issue: something\n", 0, true},
		{"toolchain warning", "WARNING: go-release-native-1.26.8-r0 do_fetch: something\n", 0, true},
		{"layer file warning", "WARNING: /var/tmp/check-layer.X/layer/classes/medagent-image.bbclass: something\n", 0, true},
		{"error", "ERROR: Nothing PROVIDES 'x'\n", 1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			stub := filepath.Join(dir, "check-layer.sh")
			body := "#!/bin/sh\ncat <<'OUT'\n" + tc.output + "OUT\nexit " + string(rune('0'+tc.exit)) + "\n"
			if err := os.WriteFile(stub, []byte(body), 0o755); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("bash", "../scripts/yocto-check.sh")
			cmd.Env = append(os.Environ(), "YOCTO_CHECK_LAYER="+stub, "YOCTO_CHECK_SKIP_SETUP=1")
			out, err := cmd.CombinedOutput()
			if failed := err != nil; failed != tc.fail {
				t.Errorf("failed=%v, want %v; output:\n%s", failed, tc.fail, out)
			}
			if tc.fail && tc.exit == 0 && !strings.Contains(string(out), "the layer causes the warnings above") {
				t.Errorf("no message naming the cause:\n%s", out)
			}
		})
	}
}
