//go:build qemu

package qemu

import (
	"bufio"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"medagent/internal/cmdline"
	"medagent/sensors/nonin/noninsim"
	"medagent/tlsconf/tlstest"
	"medagent/trust/provision"
)

// The host's side of the bench board: software TPM, certificates, the
// oximeter on a serial line, the artifact server and the data partition.

func needTool(t *testing.T, tool, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		t.Fatalf("%s not found: install Debian package %s (scripts/setup.sh)", tool, pkg)
	}
	return p
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// ids reads the image's user and group ids (build-image.sh writes them).
func ids(t *testing.T, out string) map[string]int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, "ids.env"))
	if err != nil {
		t.Fatalf("%v: build the image with qemu/build-image.sh", err)
	}
	m := map[string]int{}
	for _, l := range strings.Fields(string(b)) {
		k, v, _ := strings.Cut(l, "=")
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("ids.env: %q", l)
		}
		m[k] = n
	}
	return m
}

// swtpm is Debian's software TPM 2.0 with its state in dir.
type swtpm struct {
	dir string
	cmd *exec.Cmd
}

// startSwtpm runs swtpm on dir: with server=true it serves TPM commands
// on dir/server (for provisioning on the host, "unix:" path for tpmio);
// otherwise on the control socket dir/ctrl that QEMU's tpm-emulator
// backend drives (QEMU initialises it; the guest sees a TIS TPM).
func startSwtpm(t *testing.T, dir string, server bool) *swtpm {
	t.Helper()
	bin := needTool(t, "swtpm", "swtpm")
	args := []string{"socket", "--tpm2", "--tpmstate", "dir=" + dir, "--log", "file=" + filepath.Join(dir, "log")}
	sock := filepath.Join(dir, "ctrl")
	if server {
		sock = filepath.Join(dir, "server")
		args = append(args, "--server", "type=unixio,path="+sock, "--flags", "not-need-init,startup-clear")
	} else {
		args = append(args, "--ctrl", "type=unixio,path="+sock)
	}
	os.Remove(sock)
	s := &swtpm{dir: dir, cmd: exec.Command(bin, args...)}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start swtpm: %v", err)
	}
	t.Cleanup(s.stop)
	for i := 0; ; i++ {
		if _, err := os.Stat(sock); err == nil {
			return s
		}
		if i == 200 {
			log, _ := os.ReadFile(filepath.Join(dir, "log"))
			t.Fatalf("swtpm did not create %s within 10 s; log:\n%s", sock, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends swtpm; SIGTERM makes it save its state.
func (s *swtpm) stop() {
	if s.cmd.Process == nil || s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

// provisionTPM makes the device key in a fresh software TPM the way the
// factory does (medagent provision csr --tpm) and returns the TPM's state
// directory and the CSR's public key. The private key never leaves the TPM.
func provisionTPM(t *testing.T, dir, serial string) (string, crypto.PublicKey) {
	t.Helper()
	state := filepath.Join(dir, "tpm")
	if err := os.MkdirAll(state, 0o700); err != nil {
		t.Fatal(err)
	}
	s := startSwtpm(t, state, true)
	csrFile := filepath.Join(dir, serial+".csr")
	var csr *cmdline.Command
	for _, c := range provision.Cmd().Subs {
		if c.Name == "csr" {
			csr = c
		}
	}
	var out strings.Builder
	if err := cmdline.Exec(context.Background(), csr, []string{"--tpm", "unix:" + filepath.Join(state, "server"), "--serial", serial, "-o", csrFile}, cmdline.IO{Stdout: &out, Stderr: &out}); err != nil {
		t.Fatalf("medagent provision csr --tpm: %v\n%s", err, out.String())
	}
	s.stop()
	b, err := os.ReadFile(csrFile)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM", csrFile)
	}
	req, err := x509.ParseCertificateRequest(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if err := req.CheckSignature(); err != nil {
		t.Fatalf("CSR made with the TPM key: %v", err)
	}
	return state, req.PublicKey
}

// issue signs a certificate for pub with the test CA.
func issue(t *testing.T, ca *tlstest.CA, pub crypto.PublicKey, cn string, ips []net.IP, usage x509.ExtKeyUsage) []byte {
	t.Helper()
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		IPAddresses:  ips,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(30 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, pub, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// artifactServer serves dir over HTTPS (Range requests included, so
// downloads resume) with a certificate from ca for 10.0.2.2, the host as
// QEMU's user network shows it to the guest. It returns the port.
func artifactServer(t *testing.T, ca *tlstest.CA, dir string) int {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := issue(t, ca, key.Public(), "artifacts", []net.IP{net.IPv4(10, 0, 2, 2), net.IPv4(127, 0, 0, 1)}, x509.ExtKeyUsageServerAuth)
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(dir)), ReadHeaderTimeout: 30 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

// feedOximeter runs medagent's simulated Nonin oximeter (75 frames a
// second, Data Format #2) on a host pty and copies its bytes into the
// QEMU chardev socket behind the guest's /dev/hvc1, as a cable would. A
// line nobody reads loses bytes (writes time out), as a serial line does.
func feedOximeter(ctx context.Context, t *testing.T, dir, sock string) *noninsim.Oximeter {
	t.Helper()
	sim, err := noninsim.New(&noninsim.Opts{Link: filepath.Join(dir, "nonin")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	tty, err := os.Open(sim.Path())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tty.Close() })
	go sim.Run(ctx)
	go func() {
		var conn *net.UnixConn
		buf := make([]byte, 256)
		for ctx.Err() == nil {
			n, err := tty.Read(buf)
			if err != nil {
				return
			}
			if conn == nil {
				c, err := net.Dial("unix", sock)
				if err != nil {
					continue // QEMU not up yet: the bytes are lost
				}
				conn = c.(*net.UnixConn)
				conn.SetWriteBuffer(1024) // about 3 s of frames wait at most
			}
			conn.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
			if _, err := conn.Write(buf[:n]); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
				conn.Close()
				conn = nil
			}
		}
		if conn != nil {
			conn.Close()
		}
	}()
	return sim
}

// partitions reads the partition table of a disk image with sfdisk.
func partitions(t *testing.T, disk string) []partition {
	t.Helper()
	out, err := exec.Command("sfdisk", "-J", disk).Output()
	if err != nil {
		t.Fatalf("sfdisk -J %s: %v", disk, err)
	}
	var pt struct {
		PartitionTable struct {
			Partitions []partition `json:"partitions"`
		} `json:"partitiontable"`
	}
	if err := json.Unmarshal(out, &pt); err != nil {
		t.Fatalf("sfdisk -J: %v", err)
	}
	if n := len(pt.PartitionTable.Partitions); n != 4 {
		t.Fatalf("%s has %d partitions, want 4 (boot, A, B, data)", disk, n)
	}
	return pt.PartitionTable.Partitions
}

type partition struct {
	Start, Size int64 // in 512-byte sectors
}

// file is one file of the data partition, owned as on the device.
type file struct {
	path     string // below the partition's root
	data     []byte // nil: a directory
	mode     os.FileMode
	uid, gid int
}

// writeData makes the data partition from files and writes it into
// partition 4 of disk.
func writeData(t *testing.T, dir, disk string, files []file) {
	t.Helper()
	root := filepath.Join(dir, "data")
	for _, f := range files {
		p := filepath.Join(root, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if f.data == nil {
			err = os.Mkdir(p, f.mode)
		} else {
			err = os.WriteFile(p, f.data, f.mode)
		}
		if err == nil {
			err = os.Chmod(p, f.mode) // past the umask
		}
		if err == nil {
			err = os.Lchown(p, f.uid, f.gid)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	parts := partitions(t, disk)
	img := filepath.Join(dir, "data.ext4")
	run(t, "mkfs.ext4", "-q", "-F", "-L", "data", "-d", root, img, fmt.Sprintf("%dk", parts[3].Size/2))
	run(t, "dd", "if="+img, "of="+disk, "bs=512", fmt.Sprintf("seek=%d", parts[3].Start), "conv=notrunc,sparse", "status=none")
}

// bootEnv reads the boot environment from the disk image's FAT partition
// with Debian's fw_printenv and the image's own fw_env.config layout.
func bootEnv(t *testing.T, dir, disk string) map[string]string {
	t.Helper()
	p := partitions(t, disk)[0]
	fat := filepath.Join(dir, "boot.vfat")
	run(t, "dd", "if="+disk, "of="+fat, "bs=512", fmt.Sprintf("skip=%d", p.Start), fmt.Sprintf("count=%d", p.Size), "status=none")
	env := filepath.Join(dir, "env")
	os.MkdirAll(env, 0o755)
	run(t, "mcopy", "-o", "-i", fat, "::uboot.env", "::uboot-redund.env", env)
	conf := filepath.Join(dir, "fw_env.config")
	os.WriteFile(conf, []byte(fmt.Sprintf("%s/uboot.env 0x0000 0x4000\n%s/uboot-redund.env 0x0000 0x4000\n", env, env)), 0o644)
	out, err := exec.Command("fw_printenv", "-c", conf).CombinedOutput()
	if err != nil {
		t.Fatalf("fw_printenv: %v\n%s", err, out)
	}
	m := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			m[k] = v
		}
	}
	return m
}
