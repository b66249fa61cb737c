package control

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// Peer is who is on the other end of a connection.
type Peer struct {
	PID, UID, GID int
}

// peerOf reads the connection's peer credentials (SO_PEERCRED).
func peerOf(c *net.UnixConn) (Peer, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return Peer{}, fmt.Errorf("control: peer credentials: %w", err)
	}
	var cred *unix.Ucred
	var serr error
	if err := raw.Control(func(fd uintptr) {
		cred, serr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return Peer{}, fmt.Errorf("control: peer credentials: %w", err)
	}
	if serr != nil {
		return Peer{}, fmt.Errorf("control: peer credentials: %w", serr)
	}
	return Peer{PID: int(cred.Pid), UID: int(cred.Uid), GID: int(cred.Gid)}, nil
}

// access decides who may use the socket.
type access struct {
	selfUID int
	gid     int // the medtech group, -1 when it does not exist
	procDir string
}

// allow says whether p may use the API, and why not.
func (a access) allow(p Peer) error {
	if p.UID == 0 || p.UID == a.selfUID {
		return nil
	}
	if a.gid >= 0 {
		if p.GID == a.gid {
			return nil
		}
		groups, err := peerGroups(a.procDir, p.PID)
		if err != nil {
			return fmt.Errorf("uid %d: cannot read its groups: %w", p.UID, err)
		}
		for _, g := range groups {
			if g == a.gid {
				return nil
			}
		}
	}
	return fmt.Errorf("uid %d is not root, not the agent's user and not in group %s", p.UID, TechGroup)
}

// TechGroup is the group whose members may use the control socket.
const TechGroup = "medtech"

// maxStatus bounds what is read of /proc/PID/status.
const maxStatus = 64 << 10

func peerGroups(procDir string, pid int) ([]int, error) {
	f, err := os.Open(filepath.Join(procDir, strconv.Itoa(pid), "status"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, maxStatus)
	n, err := f.Read(b)
	if err != nil {
		return nil, err
	}
	return ParseGroups(b[:n])
}

// errNoGroups means a status file has no Groups: line.
var errNoGroups = errors.New("no Groups: line")

// ParseGroups returns the supplementary groups from the text of a
// /proc/PID/status file (the "Groups:" line, space- or tab-separated).
func ParseGroups(status []byte) ([]int, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	sc.Buffer(make([]byte, 0, 4096), maxStatus)
	for sc.Scan() {
		rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("Groups:"))
		if !ok {
			continue
		}
		var out []int
		for _, f := range bytes.Fields(rest) {
			g, err := strconv.ParseUint(string(f), 10, 32)
			if err != nil {
				return nil, fmt.Errorf("control: groups: %q: %w", f, err)
			}
			out = append(out, int(g))
		}
		return out, nil
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("control: groups: %w", err)
	}
	return nil, fmt.Errorf("control: %w", errNoGroups)
}
