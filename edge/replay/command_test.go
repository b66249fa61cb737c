package replay

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"medagent/edge/alarm"
	"medagent/edge/ec57"
	"medagent/edge/ecg/ecgtest"
	"medagent/internal/cmdline"
	"medagent/wfdb"
)

// writeRecord writes a one-signal format-16 WFDB record at rate Hz with
// narrow QRS-like pulses at the given sample numbers; gain 100/mV,
// baseline 50.
func writeRecord(t *testing.T, rate float64, n int, peaks []int) string {
	t.Helper()
	dir := t.TempDir()
	var dat bytes.Buffer
	sum := 0
	for i := 0; i < n; i++ {
		v := 0.0
		for _, p := range peaks {
			d := float64(i-p) / rate / 0.01
			v += 1.5*math.Exp(-0.5*d*d) - 0.3*math.Exp(-0.5*(d-2.5)*(d-2.5))
		}
		raw := int16(math.Round(v*100)) + 50
		sum += int(raw)
		binary.Write(&dat, binary.LittleEndian, raw)
	}
	hea := fmt.Sprintf("syn 1 %v %d\r\nsyn.dat 16 100(50)/mV 16 0 %d %d 0 ECG\r\n", rate, n, 50, int16(sum))
	if err := os.WriteFile(filepath.Join(dir, "syn.hea"), []byte(hea), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "syn.dat"), dat.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "syn")
}

func TestBeatsOnSyntheticRecord(t *testing.T) {
	const rate = 250
	var peaks []int
	for p := 100; p < 30*rate; p += 200 + (p/200)%3*10 {
		peaks = append(peaks, p)
	}
	path := writeRecord(t, rate, 30*rate+100, peaks)
	var out, errb bytes.Buffer
	if err := command(context.Background(), &out, &errb, []string{"--wfdb", path, "--beats"}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(out.String())
	if len(lines) != len(peaks) {
		t.Fatalf("%d beats printed, want %d:\n%s", len(lines), len(peaks), out.String())
	}
	for k, l := range lines {
		v, err := strconv.Atoi(l)
		if err != nil {
			t.Fatalf("line %q is not a sample number", l)
		}
		if d := v - peaks[k]; d < -2 || d > 2 {
			t.Errorf("beat %d at sample %d, pulse at %d", k, v, peaks[k])
		}
	}
}

// excerpt returns the path of a carried MIT-BIH excerpt (testdata/physionet).
func excerpt(r string) string {
	return filepath.Join("..", "..", "testdata", "physionet", "mitdb", "x_"+r)
}

func TestBeatsOnMITBIH(t *testing.T) {
	path := excerpt("114") // MLII is signal 1 here
	var out bytes.Buffer
	if err := command(context.Background(), &out, &out, []string{"--wfdb", path, "--beats"}); err != nil {
		t.Fatal(err)
	}
	var det []int64
	for _, l := range strings.Fields(out.String()) {
		v, err := strconv.ParseInt(l, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		det = append(det, v)
	}
	anns, err := wfdb.ReadAnnotationFile(path + ".atr")
	if err != nil {
		t.Fatal(err)
	}
	ref, excl := ec57.Reference(anns)
	r := ec57.Compare("x_114", ref, det, excl, ec57.Options{Rate: 360})
	if r.Se() < 0.995 || r.PPV() < 0.995 {
		t.Errorf("114 via replay: %+v Se %.3f +P %.3f", r, r.Se(), r.PPV())
	}
}

func TestVitals(t *testing.T) {
	path := excerpt("101")
	var out bytes.Buffer
	if err := command(context.Background(), &out, &out, []string{"--wfdb", path, "--vitals", "--mains", "60"}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 108000/360 {
		t.Fatalf("%d lines, want one per whole second (%d)", len(lines), 108000/360)
	}
	plausible := 0
	for k, l := range lines {
		var sec int
		var hr, q float64
		if _, err := fmt.Sscanf(l, "%d\t%g\t%g", &sec, &hr, &q); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if sec != k+1 {
			t.Fatalf("line %d says second %d", k, sec)
		}
		if hr >= 50 && hr <= 100 && q > 0.5 {
			plausible++
		}
	}
	if plausible < len(lines)*95/100 {
		t.Errorf("only %d of %d seconds have a plausible HR and quality", plausible, len(lines))
	}
}

func TestUsage(t *testing.T) {
	path := excerpt("101")
	for _, tc := range []struct {
		args []string
		want error
		says string
	}{
		{[]string{"--beats"}, ErrUsage, "--wfdb"},
		{[]string{"--wfdb", path}, ErrUsage, "exactly one"},
		{[]string{"--wfdb", path, "--beats", "--vitals"}, ErrUsage, "exactly one"},
		{[]string{"--wfdb", path, "--beats", "extra"}, ErrUsage, "extra"},
		{[]string{"-h"}, flag.ErrHelp, "help"},
		{[]string{"--bogus"}, nil, "bogus"},
		{[]string{"--wfdb", path, "--beats", "--channel", "5"}, nil, "channel 5"},
		{[]string{"--wfdb", path, "--beats", "--mains", "55"}, nil, "mains"},
		{[]string{"--wfdb", path + "nope", "--beats"}, os.ErrNotExist, "nope"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			err := command(context.Background(), &out, &errb, tc.args)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("error = %v, want %v mentioning %q", err, tc.want, tc.says)
			}
			if out.Len() != 0 {
				t.Errorf("printed %q on error", out.String())
			}
		})
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := command(ctx, &bytes.Buffer{}, &bytes.Buffer{}, []string{"--wfdb", excerpt("101"), "--beats"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
}

// Record 207 (its first 100 s here) has runs of fast ventricular rhythm: replayed through the edge
// pipeline, heart-rate alarms are raised and cleared again.
func TestVitalsRaisesAlarms(t *testing.T) {
	path := excerpt("207")
	var out bytes.Buffer
	if err := command(context.Background(), &out, &out, []string{"--wfdb", path, "--vitals"}); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"alarm=hr:raised:high:critical_high", "alarm=hr:cleared:"} {
		if !strings.Contains(s, want) {
			t.Errorf("replay of 207 has no %q", want)
		}
	}
}

func command(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	return cmdline.Exec(ctx, Cmd(), args, cmdline.IO{Stdout: stdout, Stderr: stderr})
}

// A damaged record (cut short, or failing its checksum, which is only known
// at its end) is an error, but the seconds read before it are printed.
func TestVitalsFlushesDamagedRecord(t *testing.T) {
	src := excerpt("101")
	hea, err := os.ReadFile(src + ".hea")
	if err != nil {
		t.Fatal(err)
	}
	dat, err := os.ReadFile(src + ".dat")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		hea   string
		dat   []byte
		lines int
		err   error
	}{
		{"truncated", string(hea), dat[:60*360*3+100], 60, wfdb.ErrTruncated},
		{"checksum", strings.Replace(string(hea), " 4747 ", " 4748 ", 1), dat, 300, wfdb.ErrChecksum},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "x_101.hea"), []byte(tc.hea), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "x_101.dat"), tc.dat, 0o600); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			err := command(context.Background(), &out, &bytes.Buffer{}, []string{"--wfdb", filepath.Join(dir, "x_101"), "--vitals"})
			if !errors.Is(err, tc.err) {
				t.Fatalf("error = %v, want %v", err, tc.err)
			}
			if n := strings.Count(out.String(), "\n"); n != tc.lines {
				t.Errorf("%d lines printed before the damage, want %d", n, tc.lines)
			}
		})
	}
}

// An invalid heart rate is printed as 0.0, never as a stale number: the
// lead replaced by noise for a minute.
func TestVitalsInvalidRate(t *testing.T) {
	rec, err := wfdb.OpenRecord(excerpt("101"))
	if err != nil {
		t.Fatal(err)
	}
	fr, err := rec.Frames()
	if err != nil {
		t.Fatal(err)
	}
	defer fr.Close()
	var x []float64
	v, ok := make([]int, 2), make([]bool, 2)
	for fr.ReadFrame(v, ok) == nil {
		x = append(x, rec.Header.Signals[0].Physical(v[0]))
	}
	x = ecgtest.ReplaceWith(x, 360, 100, ecgtest.Noise(ecgtest.White, 360, 60, 0.6, 1))
	i := 0
	src := func() (float64, bool, error) {
		if i == len(x) {
			return 0, false, io.EOF
		}
		i++
		return x[i-1], true, nil
	}
	var out bytes.Buffer
	if err := VitalsLines(context.Background(), &out, src, 360, 0, alarm.Defaults()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	shown := 0
	for _, l := range lines[103:160] {
		if !strings.HasPrefix(strings.SplitN(l, "\t", 3)[1], "0.0") {
			shown++
		}
	}
	if shown > 0 || !strings.Contains(out.String(), "alarm=tech-ecg:raised:low:noise") {
		t.Errorf("%d seconds of noise with a heart rate, or no noise alarm:\n%s", shown, strings.Join(lines[95:165], "\n"))
	}
}
