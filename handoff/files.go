package handoff

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"medagent/internal/durable"
)

// Modes: the other role reads through the directory's group, never writes.
const (
	dirMode  = 0o750
	fileMode = 0o640
)

// writeFile replaces path with b durably (internal/durable).
func writeFile(path string, b []byte) error {
	return durable.WriteFile(path, b, fileMode)
}

// replaceFile replaces path with b atomically (temp file, rename) but
// without fsync: for uplink.status, rewritten every half minute, which is
// worth nothing after a power cut (a torn or missing file reads as "no
// broker state") and should not wear the flash.
func replaceFile(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Chmod(fileMode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// createFile writes a new file durably (no rename: it lives in a
// directory that is itself renamed into place).
func createFile(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// openRegular opens name beneath root for reading without blocking on a
// FIFO and checks that it is a regular file of at most max bytes.
// os.Root keeps every symbolic link inside root.
func openRegular(root *os.Root, name string, max int64) (*os.File, os.FileInfo, error) {
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		// A socket or a device without a driver fails to open (ENXIO):
		// say what it is rather than the errno.
		if fi, lerr := root.Lstat(name); lerr == nil && !fi.Mode().IsRegular() && fi.Mode()&os.ModeSymlink == 0 {
			return nil, nil, fmt.Errorf("%s is not a regular file (%s)", name, fi.Mode().Type())
		}
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%s is not a regular file (%s)", name, fi.Mode().Type())
	}
	if fi.Size() > max {
		f.Close()
		return nil, nil, fmt.Errorf("%s is %d bytes, limit %d", name, fi.Size(), max)
	}
	return f, fi, nil
}

// readRegular reads a regular file of at most max bytes beneath root.
func readRegular(root *os.Root, name string, max int64) ([]byte, error) {
	f, _, err := openRegular(root, name, max)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s grew beyond %d bytes while read", name, max)
	}
	return b, nil
}

// readNames lists at most max entries of the directory name beneath root;
// more says there were more. A missing directory is empty.
func readNames(root *os.Root, name string, max int) (names []string, more bool, err error) {
	d, err := root.Open(name)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer d.Close()
	ents, err := d.ReadDir(max + 1)
	if err != nil && err != io.EOF {
		return nil, false, err
	}
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if len(names) > max {
		return names[:max], true, nil
	}
	return names, false, nil
}
