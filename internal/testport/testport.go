package testport

import (
	"fmt"
	"net"
	"sync"
)

var (
	mu    sync.Mutex
	given = map[int]bool{}
)

// Free returns a loopback port that was free when probed and that Free has
// not returned before in this process.
func Free() (int, error) {
	mu.Lock()
	defer mu.Unlock()
	var held []net.Listener // a port already given stays bound so the next probe gets another
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	for range 1000 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("testport: %w", err)
		}
		held = append(held, l)
		p := l.Addr().(*net.TCPAddr).Port
		if !given[p] {
			given[p] = true
			return p, nil
		}
	}
	return 0, fmt.Errorf("testport: no port not given before in 1000 probes")
}
