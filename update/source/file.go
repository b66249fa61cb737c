package source

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// ErrRefused is wrapped by every refusal of OpenFile.
var ErrRefused = errors.New("source: refused")

// OpenFile opens name (absolute, or relative to dir) for reading when it
// is a regular file inside dir; see the package doc.
func OpenFile(dir, name string) (*os.File, error) {
	if dir == "" {
		return nil, fmt.Errorf("%w: no directory is allowed for installs from a file (update.install_dir)", ErrRefused)
	}
	dir = filepath.Clean(dir)
	rel := name
	if filepath.IsAbs(name) {
		var err error
		if rel, err = filepath.Rel(dir, filepath.Clean(name)); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrRefused, name, err)
		}
	}
	rel = filepath.Clean(rel)
	if rel == "." || rel == ".." || strings.HasPrefix(rel, "../") || filepath.IsAbs(rel) {
		return nil, fmt.Errorf("%w: %s is not inside %s (update.install_dir); copy the artifact there", ErrRefused, name, dir)
	}
	f, err := openBeneath(dir, rel)
	if err != nil {
		switch {
		case errors.Is(err, syscall.ELOOP):
			return nil, fmt.Errorf("%w: %s is a symbolic link (give the file itself)", ErrRefused, name)
		case errors.Is(err, syscall.EXDEV):
			return nil, fmt.Errorf("%w: %s leads out of %s (symbolic link or ..)", ErrRefused, name, dir)
		}
		return nil, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: stat %s: %v", ErrRefused, name, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		f.Close()
		return nil, fmt.Errorf("%w: %s is a %s, not a regular file", ErrRefused, name, kind(st.Mode))
	}
	return f, nil
}

func kind(m uint32) string {
	switch m & unix.S_IFMT {
	case unix.S_IFIFO:
		return "FIFO"
	case unix.S_IFCHR:
		return "character device"
	case unix.S_IFBLK:
		return "block device"
	case unix.S_IFSOCK:
		return "socket"
	case unix.S_IFDIR:
		return "directory"
	case unix.S_IFLNK:
		return "symbolic link"
	}
	return "special file"
}

const openFlags = unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_CLOEXEC

// openBeneath opens rel under dir with openat2(RESOLVE_BENEATH |
// RESOLVE_NO_MAGICLINKS) and O_NOFOLLOW; on kernels without openat2 (before
// 5.6) it uses os.Root, which also keeps the path inside, after refusing a
// symbolic link as the final component.
func openBeneath(dir, rel string) (*os.File, error) {
	d, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(d)
	fd, err := unix.Openat2(d, rel, &unix.OpenHow{Flags: openFlags, Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS})
	if err == nil {
		return os.NewFile(uintptr(fd), filepath.Join(dir, rel)), nil
	}
	if !errors.Is(err, unix.ENOSYS) {
		return nil, &os.PathError{Op: "open", Path: filepath.Join(dir, rel), Err: err}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	if fi, err := root.Lstat(rel); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		return nil, &os.PathError{Op: "open", Path: filepath.Join(dir, rel), Err: syscall.ELOOP}
	}
	f, err := root.OpenFile(rel, openFlags, 0)
	if err != nil && strings.Contains(err.Error(), "escapes") {
		return nil, &os.PathError{Op: "open", Path: filepath.Join(dir, rel), Err: syscall.EXDEV}
	}
	return f, err
}
