package bootenv

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// ReadWriter reads and writes boot loader variables. It is what the update
// engine needs from a boot loader, nothing more.
type ReadWriter interface {
	// ReadEnv returns the named variables (all of them when no name is
	// given). A variable that is not set is absent from the map.
	ReadEnv(names ...string) (map[string]string, error)
	// WriteEnv sets the given variables in one atomic step; an empty value
	// deletes the variable. Other variables are kept.
	WriteEnv(vars map[string]string) error
}

// UBoot is the U-Boot environment located by a Config.
type UBoot struct {
	cfg Config
}

var _ ReadWriter = (*UBoot)(nil)

// NewUBoot returns the environment described by cfg.
func NewUBoot(cfg Config) (*UBoot, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &UBoot{cfg: cfg}, nil
}

// OpenUBoot returns the environment described by the fw_env.config at path.
func OpenUBoot(configPath string) (*UBoot, error) {
	cfg, err := ReadConfigFile(configPath)
	if err != nil {
		return nil, err
	}
	return NewUBoot(cfg)
}

// Config returns the configuration in use.
func (u *UBoot) Config() Config { return u.cfg }

// ReadEnv implements ReadWriter.
func (u *UBoot) ReadEnv(names ...string) (map[string]string, error) {
	unlock, err := u.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	img, _, err := u.load()
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return img.Vars, nil
	}
	out := make(map[string]string, len(names))
	for _, n := range names {
		if v, ok := img.Vars[n]; ok {
			out[n] = v
		}
	}
	return out, nil
}

// WriteEnv implements ReadWriter. It refuses to write when no copy is valid:
// writing only our variables would drop U-Boot's own (bootcmd, ...); restore
// the environment with Format or mkenvimage first.
func (u *UBoot) WriteEnv(vars map[string]string) error {
	unlock, err := u.lock()
	if err != nil {
		return err
	}
	defer unlock()
	img, cur, err := u.load()
	if err != nil {
		return err
	}
	for k, v := range vars {
		if err := checkName(k); err != nil {
			return err
		}
		if v == "" {
			delete(img.Vars, k)
		} else {
			img.Vars[k] = v
		}
	}
	if !u.cfg.Redundant() {
		// Single copy: overwritten in place. A power cut here leaves a bad
		// CRC and U-Boot boots with its default environment.
		return u.writeCopy(0, img.Vars, 0)
	}
	next := 1 - cur
	if err := u.writeCopy(next, img.Vars, nextFlag(img.Flag, u.cfg.Flags)); err != nil {
		return err
	}
	if u.cfg.Flags == FlagBoolean {
		// Mark the old copy obsolete, as libubootenv does. If this write is
		// lost both flags are 1 and copy 0 wins: the old or the new
		// environment, never a mix.
		if err := u.writeAt(u.cfg.Copies[cur], []byte{0}, 4); err != nil {
			return err
		}
	}
	return nil
}

// Format writes vars as a fresh environment to every copy (first copy
// current). It is for provisioning and tests; it replaces all variables.
func (u *UBoot) Format(vars map[string]string) error {
	unlock, err := u.lock()
	if err != nil {
		return err
	}
	defer unlock()
	for i := range u.cfg.Copies {
		flag := byte(0)
		if u.cfg.Redundant() && i == 0 {
			flag = 1
		}
		if err := u.writeCopy(i, vars, flag); err != nil {
			return err
		}
	}
	return nil
}

// load reads every copy and returns the current one and its index.
func (u *UBoot) load() (Image, int, error) {
	red := u.cfg.Redundant()
	var imgs [2]Image
	var ok [2]bool
	var errs []error
	for i, loc := range u.cfg.Copies {
		b, err := readCopy(loc)
		if err != nil {
			if !red {
				return Image{}, 0, err
			}
			// One unreadable copy (a missing file, a short one) is an
			// invalid copy, as for U-Boot: the other one serves, and the
			// next write goes to (and recreates) this one.
			errs = append(errs, fmt.Errorf("copy %d (%s at %#x): %w", i, loc.Path, loc.Offset, err))
			continue
		}
		imgs[i], err = ParseUBoot(b, red)
		if err != nil {
			errs = append(errs, fmt.Errorf("copy %d (%s at %#x): %w", i, loc.Path, loc.Offset, err))
			continue
		}
		ok[i] = true
	}
	if !red {
		if !ok[0] {
			return Image{}, 0, fmt.Errorf("bootenv: %w", errs[0])
		}
		return imgs[0], 0, nil
	}
	cur, err := current(ok, [2]byte{imgs[0].Flag, imgs[1].Flag}, u.cfg.Flags)
	if err != nil {
		return Image{}, 0, fmt.Errorf("bootenv: no valid copy: %w", errors.Join(errs...))
	}
	return imgs[cur], cur, nil
}

func readCopy(loc Location) ([]byte, error) {
	f, err := openDev(loc.Path, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, loc.Size)
	n, err := f.ReadAt(b, loc.Offset)
	if n < len(b) {
		if err == nil || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("bootenv: %s: wrong size: need %d bytes at offset %#x, have %d", loc.Path, loc.Size, loc.Offset, n)
		}
		return nil, fmt.Errorf("bootenv: read %s: %w", loc.Path, err)
	}
	return b, nil
}

func (u *UBoot) writeCopy(i int, vars map[string]string, flag byte) error {
	loc := u.cfg.Copies[i]
	b, err := EncodeUBoot(vars, int(loc.Size), u.cfg.Redundant(), flag)
	if err != nil {
		return err
	}
	return u.writeAt(loc, b, 0)
}

// writeAt writes b at loc.Offset+off and fsyncs before returning.
func (u *UBoot) writeAt(loc Location, b []byte, off int64) error {
	f, err := openDev(loc.Path, os.O_WRONLY)
	if errors.Is(err, os.ErrNotExist) && u.cfg.Redundant() {
		// The copy's file is gone (lost from the boot partition) while the
		// other copy was read: recreate it, zero-filled to its size.
		f, err = os.OpenFile(loc.Path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			err = f.Truncate(loc.Offset + loc.Size)
			if err != nil {
				f.Close()
			}
		}
		if err != nil {
			return fmt.Errorf("bootenv: recreate %s: %w", loc.Path, err)
		}
	}
	if err != nil {
		return err
	}
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() < loc.Offset+loc.Size {
		f.Close()
		return fmt.Errorf("bootenv: %s: wrong size: %d bytes, config needs %d", loc.Path, fi.Size(), loc.Offset+loc.Size)
	}
	if _, err := f.WriteAt(b, loc.Offset+off); err != nil {
		f.Close()
		return fmt.Errorf("bootenv: write %s: %w", loc.Path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("bootenv: fsync %s: %w", loc.Path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("bootenv: close %s: %w", loc.Path, err)
	}
	return nil
}

func openDev(path string, flag int) (*os.File, error) {
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return nil, fmt.Errorf("bootenv: environment device: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("bootenv: stat %s: %w", path, err)
	}
	if fi.Mode()&os.ModeCharDevice != 0 {
		f.Close()
		return nil, fmt.Errorf("bootenv: %s is a character (MTD) device: not supported, use a block device, a file or fw_setenv", path)
	}
	return f, nil
}

func (u *UBoot) lock() (func(), error) {
	p := u.cfg.LockFile
	if p == "" {
		p = DefaultLockFile
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE, 0o666)
	if err != nil {
		return nil, fmt.Errorf("bootenv: lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("bootenv: lock %s: %w", p, err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
