package engine

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"medagent/update/artifact"
)

// menderKeys writes a SEC1 EC P-256 private key (what mender-artifact 3.9
// signs with) and returns its path and the public key PEM.
func menderKeys(t testing.TB, dir, name string) (string, []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	der, err := x509.MarshalECPrivateKey(k)
	must(t, err)
	p := filepath.Join(dir, name+".pem")
	must(t, os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600))
	pub, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	must(t, err)
	return p, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})
}

// menderArtifactFile runs Debian's mender-artifact to build a signed
// rootfs-image artifact of w.newImg.
func menderArtifactFile(t *testing.T, w *world, key, compression string) string {
	t.Helper()
	if _, err := exec.LookPath("mender-artifact"); err != nil {
		t.Fatal("mender-artifact not found: install Debian package mender-artifact (scripts/setup.sh)")
	}
	img := filepath.Join(w.dir, "rootfs.ext4")
	must(t, os.WriteFile(img, w.newImg, 0o644))
	out := filepath.Join(w.dir, "release-2-"+compression+".mender")
	cmd := exec.Command("mender-artifact", "write", "rootfs-image", "-f", img, "-n", "release-2",
		"-t", "bedside-v2", "-o", out, "-k", key, "--compression", compression)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mender-artifact: %v\n%s", err, b)
	}
	return out
}

func realOpener(t testing.TB, pub []byte, deviceType string) OpenFunc {
	keys, err := artifact.ParsePublicKeys(pub)
	must(t, err)
	return Opener(Verification{Keys: keys, DeviceType: deviceType})
}

func TestMenderArtifactInstall(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	key, pub := menderKeys(t, w.dir, "signing")
	file := menderArtifactFile(t, w, key, "gzip")
	mod := func(o *Options) { o.Open = realOpener(t, pub, "bedside-v2") }
	f, err := os.Open(file)
	must(t, err)
	defer f.Close()
	must(t, w.engine(mod).Install(ctx, f))
	if s := w.boot(); s.Name != "B" {
		t.Fatalf("booted %s", s.Name)
	}
	e := w.engine(mod)
	must(t, e.Resume(ctx))
	st := e.Status()
	sum := sha256.Sum256(w.newImg)
	if st.State != StateCommitted || st.Installed["artifact_name"] != "release-2" ||
		st.Installed["rootfs-image.checksum"] != hex.EncodeToString(sum[:]) || st.Installed["rootfs-image.version"] != "release-2" {
		t.Fatalf("status %+v", st)
	}
}

func TestMenderArtifactRefused(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name          string
		compression   string
		otherKey      bool
		deviceType    string
		tamper        bool
		want          error
		slotUntouched bool
	}{
		{name: "wrong key", compression: "gzip", otherKey: true, deviceType: "bedside-v2", want: artifact.ErrSignature, slotUntouched: true},
		{name: "wrong device type", compression: "gzip", deviceType: "infusion-pump", want: artifact.ErrDeviceType, slotUntouched: true},
		{name: "payload byte flipped", compression: "none", deviceType: "bedside-v2", tamper: true, want: artifact.ErrChecksum},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			key, pub := menderKeys(t, w.dir, "signing")
			if tc.otherKey {
				_, pub = menderKeys(t, w.dir, "other")
			}
			file := menderArtifactFile(t, w, key, tc.compression)
			b, err := os.ReadFile(file)
			must(t, err)
			if tc.tamper {
				// Flip a byte in the middle of the uncompressed image.
				i := bytes.Index(b, w.newImg[:64])
				if i < 0 {
					t.Fatal("image not found in the uncompressed artifact")
				}
				b[i+len(w.newImg)/2] ^= 0x55
			}
			envBefore := w.vars()
			slotB, _ := os.ReadFile(w.slots.B.Device)
			e := w.engine(func(o *Options) { o.Open = realOpener(t, pub, tc.deviceType) })
			err = e.Install(ctx, bytes.NewReader(b))
			if !errors.Is(err, ErrFailed) {
				t.Fatalf("err = %v, want ErrFailed", err)
			}
			j := e.Journal()
			if j.State != StateFailed || !strings.Contains(j.Reason, tc.want.Error()) {
				t.Fatalf("journal %s reason %q, want %q", j.State, j.Reason, tc.want)
			}
			if d := diffMaps(envBefore, w.vars()); d != "" {
				t.Errorf("boot environment changed: %s", d)
			}
			if after, _ := os.ReadFile(w.slots.B.Device); tc.slotUntouched && !bytes.Equal(after, slotB) {
				t.Error("inactive slot written")
			}
			if w.reboots != 0 {
				t.Error("rebooted")
			}
			if s := w.boot(); s.Name != "A" {
				t.Errorf("booted %s", s.Name)
			}
		})
	}
}

// TestOptionsKeys: Options.Keys and DeviceType build the real opener; no
// keys means every install is refused before the slot is touched.
func TestOptionsKeys(t *testing.T) {
	w := newWorld(t)
	key, pub := menderKeys(t, w.dir, "signing")
	file := menderArtifactFile(t, w, key, "gzip")
	keys, err := artifact.ParsePublicKeys(pub)
	must(t, err)
	for _, tc := range []struct {
		name string
		keys []crypto.PublicKey
		ok   bool
	}{{"no keys", nil, false}, {"keys", keys, true}} {
		f, err := os.Open(file)
		must(t, err)
		e := w.engine(func(o *Options) { o.Open, o.Keys, o.DeviceType = nil, tc.keys, "bedside-v2" })
		err = e.Install(context.Background(), f)
		f.Close()
		if tc.ok != (err == nil) {
			t.Fatalf("%s: err = %v", tc.name, err)
		}
		if !tc.ok && !strings.Contains(err.Error(), "no verification key") {
			t.Errorf("%s: err = %v", tc.name, err)
		}
	}
}

// TestNotARootfsRefusedBeforeWrite: artifacts mender-artifact writes that
// are not one rootfs image are refused from their signed header, before a
// byte reaches the slot: a "rootfs-image" module artifact with two files
// (mender-artifact's own reader refuses it: "Must provide exactly one
// update file") and an update module's payload.
func TestNotARootfsRefusedBeforeWrite(t *testing.T) {
	if _, err := exec.LookPath("mender-artifact"); err != nil {
		t.Fatal("mender-artifact not found: install Debian package mender-artifact (scripts/setup.sh)")
	}
	for _, tc := range []struct {
		name, typ string
		files     int
		want      string
	}{
		{"rootfs-image with two files", "rootfs-image", 2, "lists 2 files"},
		{"update module payload", "ecg-firmware", 1, `payload type "ecg-firmware"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			key, pub := menderKeys(t, w.dir, "signing")
			args := []string{"write", "module-image", "-T", tc.typ}
			for i := range tc.files {
				f := filepath.Join(w.dir, fmt.Sprintf("%d.img", i))
				must(t, os.WriteFile(f, w.newImg, 0o644))
				args = append(args, "-f", f)
			}
			out := filepath.Join(w.dir, "a.mender")
			args = append(args, "-n", "release-2", "-t", "bedside-v2", "-o", out, "-k", key, "--compression", "none")
			if o, err := exec.Command("mender-artifact", args...).CombinedOutput(); err != nil {
				t.Fatalf("mender-artifact: %v\n%s", err, o)
			}
			art, err := os.ReadFile(out)
			must(t, err)
			envBefore := w.vars()
			slotB, _ := os.ReadFile(w.slots.B.Device)
			e := w.engine(func(o *Options) { o.Open = realOpener(t, pub, "bedside-v2") })
			if err := e.Install(context.Background(), bytes.NewReader(art)); !errors.Is(err, ErrFailed) {
				t.Fatalf("err = %v, want ErrFailed", err)
			}
			if r := e.Journal().Reason; !strings.Contains(r, tc.want) {
				t.Fatalf("reason %q, want %q", r, tc.want)
			}
			if after, _ := os.ReadFile(w.slots.B.Device); !bytes.Equal(after, slotB) {
				t.Error("inactive slot written")
			}
			if d := diffMaps(envBefore, w.vars()); d != "" {
				t.Errorf("boot environment changed: %s", d)
			}
		})
	}
}
