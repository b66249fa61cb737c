package spooltest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// envTest names the test a re-executed test binary runs inside the
// private mount namespace.
const envTest = "MEDAGENT_SMALLFS_TEST"

// RunInSmallFS runs fn on a tmpfs of size bytes mounted at dir, a fresh
// directory. The mount lives in a private mount namespace: the test binary
// runs this one test again in a child process (as root, or in a user
// namespace when unprivileged ones are allowed), so nothing outside sees
// the mount and nothing is left behind if the test dies. Child processes
// that fn starts (an agent, a broker) share the mount. Without root or
// user namespaces the test fails and says so; it never skips.
func RunInSmallFS(t *testing.T, size int64, fn func(t *testing.T, dir string)) {
	t.Helper()
	if os.Getenv(envTest) == t.Name() {
		dir := t.TempDir()
		// Whatever the parent namespace does, our mounts stay ours.
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			t.Fatalf("spooltest: make / private in the test's mount namespace: %v", err)
		}
		if err := unix.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0700", size)); err != nil {
			t.Fatalf("spooltest: mount a %d-byte tmpfs on %s: %v", size, dir, err)
		}
		t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
		fn(t, dir)
		return
	}
	var pat []string
	for _, p := range strings.Split(t.Name(), "/") {
		pat = append(pat, "^"+regexp.QuoteMeta(p)+"$")
	}
	cmd := exec.Command(os.Args[0], "-test.run="+strings.Join(pat, "/"), "-test.v", "-test.count=1", "-test.timeout=20m")
	cmd.Env = append(os.Environ(), envTest+"="+t.Name())
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS, Pdeathsig: syscall.SIGKILL}
	if os.Geteuid() != 0 {
		cmd.SysProcAttr.Cloneflags |= syscall.CLONE_NEWUSER
		cmd.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}}
		cmd.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("spooltest: this test mounts a small tmpfs in a private mount namespace, which needs root "+
			"or unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1; CI runs as root): start %s: %v",
			filepath.Base(os.Args[0]), err)
	}
	t.Logf("test on a %d-byte tmpfs, in a child process:\n%s", size, out.Bytes())
	if err != nil {
		t.Fatalf("spooltest: the test failed in its mount namespace: %v", err)
	}
	if !bytes.Contains(out.Bytes(), []byte("--- PASS: "+t.Name())) {
		t.Fatalf("spooltest: the child process did not run %s (no PASS line)", t.Name())
	}
}

// Fill writes a file at path until the file system holding it has at most
// leave bytes free (0: until it refuses a write), and returns the bytes
// written.
func Fill(path string, leave int64) (int64, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 4096)
	var n int64
	for {
		var st unix.Statfs_t
		if err := unix.Statfs(filepath.Dir(path), &st); err != nil {
			return n, err
		}
		free := int64(st.Bavail) * st.Bsize
		if free <= leave {
			return n, nil
		}
		chunk := buf
		if leave > 0 && free-leave < int64(len(buf)) {
			chunk = buf[:free-leave]
		}
		k, err := f.Write(chunk)
		n += int64(k)
		if errors.Is(err, syscall.ENOSPC) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// Free reports the bytes available on the file system holding path.
func Free(path string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * st.Bsize, nil
}
