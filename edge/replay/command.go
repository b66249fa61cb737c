package replay

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"medagent/edge/ecg"
)

// ErrUsage is wrapped by errors about command-line usage.
var ErrUsage = errors.New("replay: usage")

// Command implements `medagent replay`:
//
//	medagent replay --wfdb PATH/RECORD [--channel N] [--mains 0|50|60] --beats|--vitals
//
// --beats prints one detected beat per line as its 0-based sample number at
// the record's own rate. --vitals replays the record through the agent's
// edge pipeline and prints, once per second of record time,
// "second<TAB>hr_bpm<TAB>quality" and any alarm transitions (see replayVitals).
func Command(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("wfdb", "", "WFDB record `path` without extension (e.g. testdata/physionet/mitdb/x_101)")
	ch := fs.Int("channel", AutoChannel, "signal `index` to replay (default: the MLII lead if named, else 0)")
	mains := fs.Float64("mains", 0, "mains notch `Hz`: 0 (off), 50 or 60")
	beats := fs.Bool("beats", false, "print detected beats, one sample number per line")
	vitals := fs.Bool("vitals", false, "replay through the edge pipeline: heart rate, quality and alarms once per second")
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
	var err error
	if *beats {
		_, _, err = Run(ctx, *path, *ch, *mains, func(_ int64, _ *ecg.Detector, b ecg.Beat, ok bool) error {
			if !ok {
				return nil
			}
			_, err := fmt.Fprintln(w, b.Index)
			return err
		})
	} else {
		err = replayVitals(ctx, w, *path, *ch, *mains)
	}
	if err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("replay: write: %w", err)
	}
	return nil
}
