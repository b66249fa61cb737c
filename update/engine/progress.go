package engine

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// progressBar returns a Progress callback drawing a bar on w at most 10
// times a second.
func progressBar(w io.Writer) func(written, total int64) {
	var last time.Time
	return func(written, total int64) {
		if total <= 0 {
			return
		}
		done := written >= total
		if !done && time.Since(last) < 100*time.Millisecond {
			return
		}
		last = time.Now()
		fmt.Fprint(w, renderBar(written, total, 30))
		if done {
			fmt.Fprintln(w)
		}
	}
}

func renderBar(written, total int64, width int) string {
	n := int(written * int64(width) / total)
	return fmt.Sprintf("\r[%s%s] %3d%% %.1f/%.1f MiB", strings.Repeat("#", n), strings.Repeat(" ", width-n),
		written*100/total, float64(written)/(1<<20), float64(total)/(1<<20))
}
