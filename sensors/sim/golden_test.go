package sim

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenTol allows for the compiler fusing multiply-adds differently on
// other architectures; on one platform the output is bit-identical.
const goldenTol = 1e-9 // mV

// TestGoldenECG pins the first 2 s of the default ECG (default patient,
// DefaultECGOptions, 500 Hz), so any change to the model, the random
// streams or the defaults shows up in review. Regenerate with
// go test ./sensors/sim -run TestGoldenECG -update.
func TestGoldenECG(t *testing.T) {
	p := mustPatient(t, DefaultPatientOptions())
	o := DefaultECGOptions()
	x, v := readECG(mustECG(t, p, o), 2*int(o.Rate))
	path := filepath.Join("testdata", "ecg_default_500hz.golden")

	if *update {
		var b bytes.Buffer
		fmt.Fprintf(&b, "# sensors/sim: first 2 s of the default ECG (seed 1, 72 bpm, 500 Hz), mV\n")
		fmt.Fprintf(&b, "# beats: %v\n", p.Beats(0, 2e9))
		fmt.Fprintf(&b, "# index mV valid\n")
		for i := range x {
			fmt.Fprintf(&b, "%d %s %t\n", i, strconv.FormatFloat(x[i], 'g', -1, 64), v[i])
		}
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}

	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("golden file missing (run with -update to create it): %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		var i int
		var want float64
		var ok bool
		if _, err := fmt.Sscanf(line, "%d %g %t", &i, &want, &ok); err != nil {
			t.Fatalf("%s: bad line %q: %v", path, line, err)
		}
		if i != n || i >= len(x) {
			t.Fatalf("%s: line for sample %d out of order", path, i)
		}
		if math.Abs(x[i]-want) > goldenTol || v[i] != ok {
			t.Fatalf("sample %d = %v (valid %t), golden %v (valid %t); if the change is intended, run with -update",
				i, x[i], v[i], want, ok)
		}
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n != len(x) {
		t.Fatalf("%s has %d samples, want %d", path, n, len(x))
	}
}
