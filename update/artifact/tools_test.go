package artifact

import (
	"archive/tar"
	"bytes"
	"crypto"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"medagent/update/internal/peakrss"
)

// needTool fails the test when a real-peer tool is missing.
func needTool(tb testing.TB, name, pkg string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		tb.Fatalf("%s not found: install Debian package %s (scripts/setup.sh)", name, pkg)
	}
	return p
}

func run(tb testing.TB, name string, args ...string) []byte {
	tb.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		tb.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

// fixture holds keys and artifacts written by Debian's mender-artifact,
// made once per test binary in a temporary directory.
type fixture struct {
	dir             string
	rsaPriv, rsaPub string
	ecPriv, ecPub   string
	otherPub        string // an RSA key that signed nothing
	rsaKeys, ecKeys []crypto.PublicKey
	otherKeys       []crypto.PublicKey
	image           []byte // rootfs image content
	modA, modB      []byte // module-image files
	arts            map[string]string
}

var (
	fixOnce sync.Once
	fix     *fixture
	fixErr  string
	fixDir  string
)

func TestMain(m *testing.M) {
	if p := os.Getenv("ARTIFACT_RSS_FILE"); p != "" {
		err := rssChild(p, os.Getenv("ARTIFACT_RSS_KEY"))
		peakrss.Report(os.Stdout)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	if fixDir != "" {
		os.RemoveAll(fixDir)
	}
	os.Exit(code)
}

// testImage returns deterministic pseudo-random bytes.
func testImage(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// getFixture writes keys with openssl and artifacts with mender-artifact.
func getFixture(tb testing.TB) *fixture {
	tb.Helper()
	needTool(tb, "mender-artifact", "mender-artifact")
	needTool(tb, "openssl", "openssl")
	fixOnce.Do(func() {
		dir, err := os.MkdirTemp("", "artifact-test-")
		if err != nil {
			fixErr = err.Error()
			return
		}
		fixDir = dir
		fix, fixErr = buildFixture(dir)
	})
	if fixErr != "" {
		tb.Fatal(fixErr)
	}
	return fix
}

func buildFixture(dir string) (f *fixture, errMsg string) {
	defer func() {
		if r := recover(); r != nil {
			errMsg = fmt.Sprint(r)
		}
	}()
	must := func(name string, args ...string) {
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			panic(fmt.Sprintf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out))
		}
	}
	p := func(n string) string { return filepath.Join(dir, n) }
	f = &fixture{dir: dir, arts: map[string]string{},
		rsaPriv: p("test-rsa.pem"), rsaPub: p("test-rsa.pub"),
		ecPriv: p("test-ec.pem"), ecPub: p("test-ec.pub"), otherPub: p("test-other.pub")}
	must("openssl", "genrsa", "-traditional", "-out", f.rsaPriv, "3072")
	must("openssl", "rsa", "-in", f.rsaPriv, "-pubout", "-out", f.rsaPub)
	must("openssl", "ecparam", "-genkey", "-name", "prime256v1", "-noout", "-out", f.ecPriv)
	must("openssl", "ec", "-in", f.ecPriv, "-pubout", "-out", f.ecPub)
	must("openssl", "genrsa", "-traditional", "-out", p("test-other.pem"), "2048")
	must("openssl", "rsa", "-in", p("test-other.pem"), "-pubout", "-out", f.otherPub)
	var err error
	if f.rsaKeys, err = LoadPublicKeys(f.rsaPub); err != nil {
		panic(err.Error())
	}
	if f.ecKeys, err = LoadPublicKeys(f.ecPub); err != nil {
		panic(err.Error())
	}
	if f.otherKeys, err = LoadPublicKeys(f.otherPub); err != nil {
		panic(err.Error())
	}

	f.image = testImage(300<<10+123, 1)
	f.modA, f.modB = testImage(5000, 2), []byte("module file b\n")
	writeFile := func(n string, b []byte) {
		if err := os.WriteFile(p(n), b, 0o600); err != nil {
			panic(err.Error())
		}
	}
	writeFile("rootfs.ext4", f.image)
	writeFile("a.bin", f.modA)
	writeFile("b.txt", f.modB)
	writeFile("meta.json", []byte(`{"model":"bedside-7"}`))

	rootfs := func(name, comp, key string, extra ...string) {
		args := []string{"write", "rootfs-image", "-n", "rel-" + name, "-t", "bedside-a", "-t", "bedside-b",
			"-f", p("rootfs.ext4"), "-o", p(name + ".mender"), "--compression", comp, "--no-progress"}
		if key != "" {
			args = append(args, "-k", key)
		}
		must("mender-artifact", append(args, extra...)...)
		f.arts[name] = p(name + ".mender")
	}
	rootfs("rootfs-gzip-rsa", "gzip", f.rsaPriv)
	rootfs("rootfs-lzma-ec", "lzma", f.ecPriv)
	rootfs("rootfs-none-rsa", "none", f.rsaPriv)
	rootfs("rootfs-none-unsigned", "none", "")
	rootfs("rootfs-gzip-unsigned", "gzip", "", "-p", "extra.key:v1")
	must("mender-artifact", "write", "module-image", "-n", "mod-1", "-t", "bedside-a", "-T", "ecg-firmware",
		"-f", p("a.bin"), "-f", p("b.txt"), "-m", p("meta.json"), "-o", p("module-gzip-ec.mender"),
		"-k", f.ecPriv, "-N", "rel-0", "-d", "ecg-fw.version:1.0", "--clears-provides", "ecg-fw.*",
		"-p", "ecg-fw.version:2.0")
	f.arts["module-gzip-ec"] = p("module-gzip-ec.mender")
	return f, ""
}

func (f *fixture) read(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(f.arts[name])
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// readAll reads a whole artifact with opt and returns the payload files.
func readAll(src []byte, opt Options) (*Header, map[string][]byte, error) {
	r, err := NewReader(bytes.NewReader(src), opt)
	if err != nil {
		return nil, nil, err
	}
	files := map[string][]byte{}
	for {
		pf, err := r.Next()
		if err == io.EOF {
			return r.Header(), files, nil
		}
		if err != nil {
			return nil, nil, err
		}
		b, err := io.ReadAll(pf)
		if err != nil {
			return nil, nil, err
		}
		files[pf.Name] = b
	}
}

// member is one outer tar member, for rewriting artifacts in tests.
type member struct {
	name  string
	data  []byte
	start int64 // offset of the data in the artifact
}

func members(tb testing.TB, b []byte) []member {
	tb.Helper()
	br := bytes.NewReader(b)
	tr := tar.NewReader(br)
	var out []member
	for {
		th, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			tb.Fatal(err)
		}
		start := br.Size() - int64(br.Len())
		d, err := io.ReadAll(tr)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, member{name: th.Name, data: d, start: start})
	}
}

func memberAt(tb testing.TB, b []byte, name string) member {
	tb.Helper()
	for _, m := range members(tb, b) {
		if m.name == name {
			return m
		}
	}
	tb.Fatalf("no member %q", name)
	return member{}
}

func writeTar(tb testing.TB, ms []member) []byte {
	tb.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range ms {
		if err := tw.WriteHeader(&tar.Header{Name: m.name, Mode: 0o600, Size: int64(len(m.data)), Typeflag: tar.TypeReg}); err != nil {
			tb.Fatal(err)
		}
		if _, err := tw.Write(m.data); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// validate runs "mender-artifact validate -k pub" on b and returns its exit code.
func validate(tb testing.TB, b []byte, pub string) int {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), "x.mender")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command("mender-artifact", "validate", "-k", pub, p)
	out, err := cmd.CombinedOutput()
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		tb.Logf("mender-artifact validate: exit %d: %s", ee.ExitCode(), bytes.TrimSpace(out))
		return ee.ExitCode()
	}
	tb.Fatal(err)
	return -1
}
