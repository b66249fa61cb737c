// Command rss measures the agent's memory while it monitors: it runs the
// real binary on the default simulated sensors (ECG 500 Hz, PPG 100 Hz,
// temperature) publishing over mutual TLS to a local mosquitto for
// --duration, samples VmRSS every 5 s and prints the last and the peak
// (VmHWM). Target: 20 MiB.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"medagent/bench/internal/benchrig"
)

func main() {
	agent := flag.String("agent", "bin/medagent-sim-linux-amd64", "agent binary (the bench build: simulated sensors)")
	duration := flag.Duration("duration", 10*time.Minute, "how long to monitor")
	flag.Parse()
	if err := run(*agent, *duration); err != nil {
		fmt.Fprintln(os.Stderr, "rss:", err)
		os.Exit(1)
	}
}

func run(agent string, d time.Duration) error {
	r, err := benchrig.New("MA-RSS", "")
	if err != nil {
		return err
	}
	defer r.Close()
	cmd := exec.Command(agent, "run", "--config", r.Config)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer cmd.Process.Kill()
	start := time.Now()
	var last string
	for time.Since(start) < d {
		time.Sleep(5 * time.Second)
		if last, err = status(cmd.Process.Pid, "VmRSS"); err != nil {
			return fmt.Errorf("agent died: %w", err)
		}
	}
	peak, err := status(cmd.Process.Pid, "VmHWM")
	if err != nil {
		return err
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	fmt.Printf("rss after %v monitoring ECG 500 Hz + PPG 100 Hz + temp over mTLS MQTT: VmRSS %s, peak VmHWM %s (target <= 20 MiB = 20480 kB)\n", d, last, peak)
	return nil
}

func status(pid int, field string) (string, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("no %s in /proc/%d/status", field, pid)
}
