package artifact

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"medagent/internal/cmdline"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", p, diff)
	}
}

func TestInspectCommand(t *testing.T) {
	f := getFixture(t)
	ctx := context.Background()
	var out, errOut bytes.Buffer
	if err := cmdline.Exec(ctx, InspectCmd(), []string{f.arts["module-gzip-ec"]}, cmdline.IO{Stdout: &out, Stderr: &errOut}); err != nil {
		t.Fatal(err, errOut.String())
	}
	golden(t, "inspect-module.golden", out.Bytes())

	out.Reset()
	if err := cmdline.Exec(ctx, InspectCmd(), []string{f.arts["rootfs-lzma-ec"], "--json", "--key", f.ecPub, "--max-window-mib", "64"}, cmdline.IO{Stdout: &out, Stderr: &errOut}); err != nil {
		t.Fatal(err, errOut.String())
	}
	var s Summary
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	want := Summary{Name: "rel-rootfs-lzma-ec", Format: "mender", Version: 3, Compression: CompressionXZ,
		Signed: true, Verified: true, DeviceTypes: []string{"bedside-a", "bedside-b"},
		Provides: map[string]string{"artifact_name": "rel-rootfs-lzma-ec"},
		Payloads: []PayloadSummary{{Type: "rootfs-image", Compression: CompressionXZ,
			Provides: map[string]string{},
			Files:    []FileSummary{{Name: "rootfs.ext4", Size: int64(len(f.image))}}}}}
	// The checksum is the image's sha256; compare it separately.
	sum := s.Payloads[0].Files[0].SHA256
	want.Payloads[0].Provides["rootfs-image.checksum"] = sum
	want.Payloads[0].Provides["rootfs-image.version"] = "rel-rootfs-lzma-ec"
	want.Payloads[0].Files[0].SHA256 = sum
	want.Payloads[0].ClearsProvides = []string{"artifact_group", "rootfs_image_checksum", "rootfs-image.*"}
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("inspect --json (-want +got):\n%s", diff)
	}
	if wantSum := sha256Hex(f.image); sum != wantSum {
		t.Errorf("sha256 %s, want %s", sum, wantSum)
	}

	if err := cmdline.Exec(ctx, InspectCmd(), []string{}, cmdline.IO{Stdout: &out, Stderr: &errOut}); !isUsage(err) {
		t.Errorf("no file: %v, want ErrHelp", err)
	}
	if err := cmdline.Exec(ctx, InspectCmd(), []string{f.arts["rootfs-lzma-ec"], "--key", f.rsaPub}, cmdline.IO{Stdout: &out, Stderr: &errOut}); !errors.Is(err, ErrSignature) {
		t.Errorf("inspect with a wrong key: %v", err)
	}
}

func TestVerifyCommand(t *testing.T) {
	f := getFixture(t)
	ctx := context.Background()
	var out, errOut bytes.Buffer
	tampered := filepath.Join(t.TempDir(), "t.mender")
	b := f.read(t, "rootfs-none-rsa")
	os.WriteFile(tampered, flip(b, memberAt(t, b, "data/0000.tar").start+4096), 0o600)
	for _, tc := range []struct {
		name string
		args []string
		want error
	}{
		{"valid", []string{"--key", f.rsaPub, f.arts["rootfs-gzip-rsa"]}, nil},
		{"valid, rotated keys, flags last", []string{f.arts["rootfs-gzip-rsa"], "--key", f.ecPub, "--key", f.rsaPub}, nil},
		{"valid for device", []string{"--key", f.rsaPub, "--device-type", "bedside-b", f.arts["rootfs-gzip-rsa"]}, nil},
		{"wrong device", []string{"--key", f.rsaPub, "--device-type", "pump", f.arts["rootfs-gzip-rsa"]}, ErrDeviceType},
		{"wrong key", []string{"--key", f.ecPub, f.arts["rootfs-gzip-rsa"]}, ErrSignature},
		{"unsigned", []string{"--key", f.rsaPub, f.arts["rootfs-gzip-unsigned"]}, ErrUnsigned},
		{"tampered payload", []string{"--key", f.rsaPub, tampered}, ErrChecksum},
		{"no key", []string{f.arts["rootfs-gzip-rsa"]}, errUsage},
		{"two files", []string{"--key", f.rsaPub, tampered, tampered}, errUsage},
		{"bad flag", []string{"--nope"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out.Reset()
			err := cmdline.Exec(ctx, VerifyCmd(), tc.args, cmdline.IO{Stdout: &out, Stderr: &errOut})
			if tc.name == "bad flag" {
				if err == nil {
					t.Fatal("unknown flag accepted")
				}
				return
			}
			if tc.want == errUsage {
				if !isUsage(err) {
					t.Fatalf("error %v, want a usage error", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if err == nil && !strings.Contains(out.String(), "valid") {
				t.Errorf("output %q", out.String())
			}
		})
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := cmdline.Exec(cctx, VerifyCmd(), []string{"--key", f.rsaPub, f.arts["rootfs-gzip-rsa"]}, cmdline.IO{Stdout: &out, Stderr: &errOut}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// errUsage stands for "a usage error" in the tables.
var errUsage = errors.New("usage")

func isUsage(err error) bool {
	var ue *cmdline.UsageError
	return errors.As(err, &ue)
}
