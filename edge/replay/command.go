package replay

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"

	"medagent/edge/ecg"
	"medagent/internal/cmdline"
)

// ErrUsage matches errors about command-line usage.
var ErrUsage = cmdline.ErrUsage

// Cmd is "medagent replay":
//
//	medagent replay --wfdb PATH/RECORD [--channel N] [--mains 0|50|60] --beats|--vitals
//
// --beats prints one detected beat per line as its 0-based sample number at
// the record's own rate. --vitals replays the record through the agent's
// edge pipeline and prints, once per second of record time,
// "second<TAB>hr_bpm<TAB>quality" and any alarm transitions (see replayVitals).
// What was printed before an error (a damaged record) is flushed.
func Cmd() *cmdline.Command {
	return &cmdline.Command{
		Name:    "replay",
		Usage:   "--wfdb PATH/RECORD [--channel N] [--mains 0|50|60] --beats|--vitals",
		Summary: "replay a WFDB record through the edge algorithms",
		Help: `Replays a PhysioNet WFDB record (MIT-BIH format 212 or 16, with its
.hea header) through the same beat detector and edge pipeline as the agent.

--beats prints one detected beat per line as its 0-based sample number at
the record's own rate. --vitals prints, once per second of record time,
SECOND<TAB>HR<TAB>QUALITY and any alarm transitions as
alarm=NAME:raised|cleared:PRIORITY:CONDITION, each after a tab. When the
record is damaged, what was printed so far is kept and the command exits 1.`,
		Examples: []string{
			"medagent replay --wfdb mitdb/101 --beats > 101.beats",
			"medagent replay --wfdb mitdb/207 --vitals --mains 60",
		},
		Flags: func(fs *flag.FlagSet) cmdline.Run {
			path := fs.String("wfdb", "", "WFDB record `PATH` without extension (e.g. testdata/physionet/mitdb/x_101)")
			ch := fs.Int("channel", AutoChannel, "signal `INDEX` to replay (-1: the MLII lead if named, else 0)")
			mains := fs.Float64("mains", 0, "mains notch `HZ`: 0 (off), 50 or 60")
			beats := fs.Bool("beats", false, "print detected beats, one sample number per line")
			vitals := fs.Bool("vitals", false, "replay through the edge pipeline: heart rate, quality and alarms once per second")
			return func(ctx context.Context, io cmdline.IO, args []string) error {
				switch {
				case len(args) > 0:
					return cmdline.Usagef("unexpected argument %q", args[0])
				case *path == "":
					return cmdline.Usagef("--wfdb PATH/RECORD is required")
				case *beats == *vitals:
					return cmdline.Usagef("give exactly one of --beats and --vitals")
				}
				return write(ctx, io.Stdout, *path, *ch, *mains, *vitals)
			}
		},
	}
}

// write replays the record to stdout and flushes what it printed, also
// when the record turns out damaged halfway.
func write(ctx context.Context, stdout io.Writer, path string, ch int, mains float64, vitals bool) error {
	w := bufio.NewWriter(stdout)
	var err error
	if vitals {
		err = replayVitals(ctx, w, path, ch, mains)
	} else {
		_, _, err = Run(ctx, path, ch, mains, func(_ int64, _ *ecg.Detector, b ecg.Beat, ok bool) error {
			if !ok {
				return nil
			}
			_, err := fmt.Fprintln(w, b.Index)
			return err
		})
	}
	if ferr := w.Flush(); ferr != nil && err == nil {
		err = fmt.Errorf("replay: write: %w", ferr)
	}
	return err
}
