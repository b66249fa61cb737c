package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"medagent/trust/datakey"
	"medagent/update/bootenv"
	"medagent/update/engine/uboottest"
	"medagent/update/slot"
)

const (
	slotSize    = 1 << 20
	payloadSize = 600<<10 + 17
)

// world is a simulated device: two slot files, a redundant U-Boot
// environment, a kernel command line and a board that boots them.
type world struct {
	t       testing.TB
	dir     string
	env     *bootenv.UBoot
	slots   slot.Config
	board   *uboottest.Board
	oldImg  []byte // in slot A, running
	newImg  []byte // the update payload
	reboots int
	crash   func(string) // power-cut hook for tearingEnv
}

func randBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func newWorld(t testing.TB) *world {
	t.Helper()
	return newWorldSized(t, slotSize, payloadSize)
}

// newWorldSized is newWorld with slots of slotBytes and an update payload
// of payloadBytes.
func newWorldSized(t testing.TB, slotBytes, payloadBytes int) *world {
	t.Helper()
	return newWorldIn(t, t.TempDir(), slotBytes, payloadBytes)
}

// newWorldIn is newWorldSized with its files in dir.
func newWorldIn(t testing.TB, dir string, slotBytes, payloadBytes int) *world {
	t.Helper()
	w := &world{t: t, dir: dir, oldImg: randBytes(slotBytes, 1), newImg: randBytes(payloadBytes, 2)}
	w.slots = slot.Config{
		A:           slot.Slot{Device: filepath.Join(dir, "rootfsA.img"), Part: "2"},
		B:           slot.Slot{Device: filepath.Join(dir, "rootfsB.img"), Part: "3"},
		CmdlinePath: filepath.Join(dir, "cmdline"),
		RootPath:    dir,
	}
	must(t, os.WriteFile(w.slots.A.Device, w.oldImg, 0o644))
	must(t, os.WriteFile(w.slots.B.Device, randBytes(slotBytes, 3), 0o644))
	cfg := worldEnvConfig(filepath.Join(dir, "uboot.env"), filepath.Join(dir, "env.lock"))
	must(t, os.WriteFile(cfg.Copies[0].Path, make([]byte, 0x4000), 0o644))
	var err error
	w.env, err = openWorldEnv(cfg.Copies[0].Path, cfg.LockFile)
	must(t, err)
	must(t, w.env.Format(map[string]string{
		"bootcmd": "run mender_setup; run mmcboot", "bootlimit": "1", "bootcount": "0",
		"upgrade_available": "0", "mender_boot_part": "2", "mender_boot_part_hex": "2",
	}))
	w.board = &uboottest.Board{Env: w.env, Slots: w.slots}
	if s := w.boot(); s.Name != "A" {
		t.Fatalf("first boot on %s", s.Name)
	}
	return w
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// boot boots the board and checks that the running slot holds a good
// image: the old one on A, the complete new one on B.
func (w *world) boot() slot.Slot {
	w.t.Helper()
	s, err := w.board.Boot()
	must(w.t, err)
	b, err := os.ReadFile(s.Device)
	must(w.t, err)
	switch s.Name {
	case "A":
		if !bytes.Equal(b, w.oldImg) {
			w.t.Fatal("booted slot A but it does not hold the old image")
		}
	case "B":
		if !bytes.Equal(b[:len(w.newImg)], w.newImg) {
			w.t.Fatal("booted slot B but it does not hold the complete new image")
		}
	}
	return s
}

// stateKey is the journal key made from state.key beside the journal,
// as the command line and the agent make it.
func stateKey(t testing.TB, dir string) []byte {
	t.Helper()
	k, err := datakey.Load(datakey.Options{TPM: "off", File: StateKeyFile(filepath.Join(dir, "update.journal")), Private: true})
	must(t, err)
	return JournalKey(k)
}

// floor is the device's version floor: floor.state beside the journal.
func (w *world) floor() FloorStore {
	w.t.Helper()
	k, err := datakey.Load(datakey.Options{TPM: "off", File: StateKeyFile(filepath.Join(w.dir, "update.journal")), Private: true})
	must(w.t, err)
	fl, err := OpenFloor("off", filepath.Join(w.dir, "update.journal"), k)
	must(w.t, err)
	return fl
}

func (w *world) options() Options {
	return Options{
		Journal:    filepath.Join(w.dir, "update.journal"),
		JournalKey: stateKey(w.t, w.dir),
		Floor:      w.floor(),
		Env:        &tearingEnv{w},
		Slots:      w.slots,
		Open:       fakeOpener("release-2", sha256.Sum256(w.newImg), int64(len(w.newImg)), nil),
		Reboot: func(context.Context) error {
			w.reboots++
			return nil
		},
		FlushEvery: 256 << 10,
	}
}

func (w *world) engine(mod func(*Options)) *Engine {
	w.t.Helper()
	o := w.options()
	if mod != nil {
		mod(&o)
	}
	e, err := New(o)
	must(w.t, err)
	return e
}

func (w *world) vars() map[string]string {
	w.t.Helper()
	v, err := w.env.ReadEnv()
	must(w.t, err)
	return v
}

// src serves the payload in small reads so crash points fall inside it.
func (w *world) src() io.Reader { return &chunked{r: bytes.NewReader(w.newImg), n: 32 << 10} }

type chunked struct {
	r io.Reader
	n int
}

func (c *chunked) Read(b []byte) (int, error) {
	if len(b) > c.n {
		b = b[:c.n]
	}
	return c.r.Read(b)
}

// fakeArtifact stands in for update/artifact: the source is the raw
// payload, the header is given, and the payload reader fails at EOF when
// the bytes do not hash to the declared (signed) checksum, like the real one.
type fakeArtifact struct {
	h    Header
	p    Payload
	done bool
}

func (f *fakeArtifact) Header() Header { return f.h }
func (f *fakeArtifact) Next() (Payload, error) {
	if f.done {
		return Payload{}, io.EOF
	}
	f.done = true
	return f.p, nil
}

var errSignature = errors.New("fake artifact: bad signature")

func fakeOpener(name string, sum [32]byte, size int64, headerErr error) OpenFunc {
	return func(r io.Reader, _ OpenRequest) (Artifact, error) {
		if headerErr != nil {
			return nil, headerErr
		}
		return &fakeArtifact{
			h: Header{Name: name, Type: RootfsType, Provides: map[string]string{"rootfs-image.version": name}},
			p: Payload{Name: "rootfs.img", Size: size, SHA256: sum[:], R: &verifying{r: r, want: sum}},
		}, nil
	}
}

type verifying struct {
	r    io.Reader
	want [32]byte
	buf  bytes.Buffer
}

func (v *verifying) Read(b []byte) (int, error) {
	n, err := v.r.Read(b)
	v.buf.Write(b[:n])
	if err == io.EOF && sha256.Sum256(v.buf.Bytes()) != v.want {
		return n, fmt.Errorf("fake artifact: payload checksum mismatch")
	}
	return n, err
}

func sha256Sum(b []byte) []byte { s := sha256.Sum256(b); return s[:] }

// tearingEnv is the engine's view of the boot environment in the world. It
// offers every WriteEnv to the crash hook as point "env-write"; when the hook
// cuts the power there, the new copy is left half written (the first half
// new, the rest what the inactive copy held) before the process dies.
type tearingEnv struct{ w *world }

func (te *tearingEnv) ReadEnv(names ...string) (map[string]string, error) {
	return te.w.env.ReadEnv(names...)
}

func (te *tearingEnv) WriteEnv(set map[string]string) error {
	if te.w.crash != nil {
		func() {
			defer func() {
				if r := recover(); r != nil {
					te.tear(set)
					panic(r)
				}
			}()
			te.w.crash("env-write")
		}()
	}
	return te.w.env.WriteEnv(set)
}

func (te *tearingEnv) tear(set map[string]string) {
	t := te.w.t
	locs := te.w.env.Config().Copies
	var raw [2][]byte
	var imgs [2]bootenv.Image
	for i, l := range locs {
		f, err := os.Open(l.Path)
		must(t, err)
		raw[i] = make([]byte, l.Size)
		_, err = f.ReadAt(raw[i], l.Offset)
		f.Close()
		must(t, err)
		imgs[i], _ = bootenv.ParseUBoot(raw[i], true)
	}
	cur := 0
	if imgs[1].Vars != nil && (imgs[0].Vars == nil || imgs[1].Flag > imgs[0].Flag) {
		cur = 1
	}
	vars := map[string]string{}
	for k, v := range imgs[cur].Vars {
		vars[k] = v
	}
	for k, v := range set {
		vars[k] = v
	}
	next, err := bootenv.EncodeUBoot(vars, int(locs[1-cur].Size), true, imgs[cur].Flag+1)
	must(t, err)
	half := 64 // past the header, into the variables
	torn := append(next[:half:half], raw[1-cur][half:]...)
	if _, err := bootenv.ParseUBoot(torn, true); !errors.Is(err, bootenv.ErrBadCRC) {
		t.Fatalf("torn copy is not torn: %v", err)
	}
	f, err := os.OpenFile(locs[1-cur].Path, os.O_WRONLY, 0)
	must(t, err)
	_, err = f.WriteAt(torn, locs[1-cur].Offset)
	f.Close()
	must(t, err)
}

// worldEnvConfig: two redundant copies in one file.
func worldEnvConfig(file, lock string) bootenv.Config {
	return bootenv.Config{
		Copies:   []bootenv.Location{{Path: file, Size: 0x2000}, {Path: file, Offset: 0x2000, Size: 0x2000}},
		LockFile: lock,
	}
}

func openWorldEnv(file, lock string) (*bootenv.UBoot, error) {
	return bootenv.NewUBoot(worldEnvConfig(file, lock))
}
