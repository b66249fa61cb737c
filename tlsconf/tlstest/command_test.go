package tlstest

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	var out, errb bytes.Buffer
	if err := Command(t.Context(), &out, &errb, []string{"-dir", dir, "-device", "MA-0042"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), filepath.Join(dir, DeviceKeyFile)) {
		t.Errorf("output = %q", out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, MonitorCertFile)); err != nil {
		t.Error(err)
	}
	err := Command(t.Context(), &out, &errb, []string{"-dir", dir, "-device", "MA-0042"})
	if err == nil || !strings.Contains(err.Error(), "already holds a PKI") {
		t.Errorf("second run: %v", err)
	}
	if err := Command(t.Context(), &out, &errb, []string{"-dir", dir}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("missing -device: %v", err)
	}
}
