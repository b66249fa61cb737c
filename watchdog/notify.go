package watchdog

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"
)

// notifier sends sd_notify datagrams to the socket systemd named.
type notifier struct {
	addr *net.UnixAddr
}

// newNotifier returns nil (and no error) when NOTIFY_SOCKET is unset: the
// agent is not running under systemd with Type=notify.
func newNotifier(socket string) *notifier {
	if socket == "" {
		return nil
	}
	name := socket
	if name[0] == '@' { // abstract namespace
		name = "\x00" + name[1:]
	}
	return &notifier{addr: &net.UnixAddr{Name: name, Net: "unixgram"}}
}

// send writes one datagram. A fresh connection per message keeps no file
// descriptor open between pets and survives a restarted systemd.
func (n *notifier) send(state string) error {
	c, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return fmt.Errorf("watchdog: notify socket %s: %w", n.addr.Name, err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(state)); err != nil {
		return fmt.Errorf("watchdog: notify %q: %w", state, err)
	}
	return nil
}

// errBadEnv marks a malformed WATCHDOG_USEC or WATCHDOG_PID.
var errBadEnv = errors.New("bad systemd watchdog environment")

// systemdInterval returns half of WATCHDOG_USEC, or 0 when systemd's
// watchdog is off or meant for another process (WATCHDOG_PID).
func systemdInterval(usec, pid string, self int) (time.Duration, error) {
	if usec == "" {
		return 0, nil
	}
	if pid != "" {
		p, err := strconv.Atoi(pid)
		if err != nil || p <= 0 {
			return 0, fmt.Errorf("watchdog: WATCHDOG_PID=%q: %w", pid, errBadEnv)
		}
		if p != self {
			return 0, nil
		}
	}
	u, err := strconv.ParseUint(usec, 10, 63)
	if err != nil || u == 0 {
		return 0, fmt.Errorf("watchdog: WATCHDOG_USEC=%q: %w", usec, errBadEnv)
	}
	return time.Duration(u) * time.Microsecond / 2, nil
}

func getenv(k string) string { return os.Getenv(k) }
