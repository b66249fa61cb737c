package replay

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"

	"medagent/edge/ecg"
)

// ErrUsage is wrapped by errors about command-line usage.
var ErrUsage = errors.New("replay: usage")

// hrStale is how long the heart rate stays on display without a new beat.
const hrStale = 3.0

// Command implements `medagent replay`:
//
//	medagent replay --wfdb PATH/RECORD [--channel N] [--mains 0|50|60] --beats|--vitals
//
// --beats prints one detected beat per line as its 0-based sample number at
// the record's own rate. --vitals prints, once per second of record time,
// "second<TAB>hr_bpm<TAB>quality" with hr 0 when no beat came within 3 s.
func Command(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("wfdb", "", "WFDB record `path` without extension (e.g. ../shared/data/mitdb/101)")
	ch := fs.Int("channel", AutoChannel, "signal `index` to replay (default: the MLII lead if named, else 0)")
	mains := fs.Float64("mains", 0, "mains notch `Hz`: 0 (off), 50 or 60")
	beats := fs.Bool("beats", false, "print detected beats, one sample number per line")
	vitals := fs.Bool("vitals", false, "print heart rate and signal quality once per second")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("%w: unexpected argument %q", ErrUsage, fs.Arg(0))
	case *path == "":
		return fmt.Errorf("%w: --wfdb PATH/RECORD is required", ErrUsage)
	case *beats == *vitals:
		return fmt.Errorf("%w: give exactly one of --beats and --vitals", ErrUsage)
	}
	w := bufio.NewWriter(stdout)
	var visit Visit
	if *beats {
		visit = func(_ int64, _ *ecg.Detector, b ecg.Beat, ok bool) error {
			if !ok {
				return nil
			}
			_, err := fmt.Fprintln(w, b.Index)
			return err
		}
	} else {
		v := &vitalsPrinter{w: w}
		visit = v.visit
	}
	if _, _, err := Run(ctx, *path, *ch, *mains, visit); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("replay: write: %w", err)
	}
	return nil
}

// vitalsPrinter turns beats into one line per second.
type vitalsPrinter struct {
	w        io.Writer
	lastBeat int64
	hr       float64
	seen     bool
}

func (v *vitalsPrinter) visit(i int64, d *ecg.Detector, b ecg.Beat, ok bool) error {
	if ok {
		v.lastBeat, v.hr, v.seen = b.Index, b.HRAvg, true
	}
	rate := d.Rate()
	// Emit at the last sample of every whole second.
	next := i + 1
	if int64(math.Floor(float64(next)/rate)) == int64(math.Floor(float64(i)/rate)) {
		return nil
	}
	sec := int64(math.Floor(float64(next) / rate))
	hr := 0.0
	if v.seen && float64(i-v.lastBeat) <= hrStale*rate {
		hr = v.hr
	}
	// TODO(vitals): feed hr and d.Quality() to the SpO2 fusion and alarm
	// stages (edge/ppg, alarms) once those packages exist; this is where
	// the whole edge pipeline plugs into replay.
	_, err := fmt.Fprintf(v.w, "%d\t%.1f\t%.2f\n", sec, hr, d.Quality())
	return err
}
