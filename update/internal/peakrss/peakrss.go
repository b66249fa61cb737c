package peakrss

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

const marker = "peakrss-bytes "

// Current returns this process's peak RSS in bytes (VmHWM).
func Current() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("peakrss: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("peakrss: VmHWM %q: %w", v, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("peakrss: no VmHWM in /proc/self/status")
}

// Report writes this process's peak RSS in the form Parse finds.
func Report(w io.Writer) error {
	n, err := Current()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "\n%s%d\n", marker, n)
	return err
}

// Parse returns the peak RSS a child reported in out.
func Parse(out []byte) (int64, error) {
	i := bytes.LastIndex(out, []byte(marker))
	if i < 0 {
		return 0, fmt.Errorf("peakrss: the child reported no peak RSS")
	}
	line, _, _ := bytes.Cut(out[i+len(marker):], []byte("\n"))
	return strconv.ParseInt(string(line), 10, 64)
}
