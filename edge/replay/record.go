package replay

import (
	"context"
	"fmt"
	"io"

	"medagent/edge/ecg"
	"medagent/wfdb"
)

// AutoChannel asks SelectChannel for the MLII lead if the header names one,
// else signal 0.
const AutoChannel = -1

// SelectChannel resolves a channel request against a header.
func SelectChannel(h *wfdb.Header, ch int) (int, error) {
	if ch == AutoChannel {
		if i := h.FindSignal("MLII"); i >= 0 {
			return i, nil
		}
		ch = 0
	}
	if ch < 0 || ch >= len(h.Signals) {
		return 0, fmt.Errorf("replay: %s: channel %d out of range (record has %d signals)", h.Record, ch, len(h.Signals))
	}
	return ch, nil
}

// Visit is called for every sample of the replayed channel with its index,
// the detector (after the sample was pushed) and the beat it produced.
type Visit func(i int64, d *ecg.Detector, b ecg.Beat, ok bool) error

// Run replays one channel of the record at path through a detector and
// calls visit for every sample. mains selects the notch (0, 50, 60).
func Run(ctx context.Context, path string, ch int, mains float64, visit Visit) (*wfdb.Header, int, error) {
	rec, err := wfdb.OpenRecord(path)
	if err != nil {
		return nil, 0, fmt.Errorf("replay: %w", err)
	}
	h := rec.Header
	ch, err = SelectChannel(h, ch)
	if err != nil {
		return h, 0, err
	}
	det, err := ecg.NewDetector(ecg.Options{Rate: h.Freq, MainsHz: mains})
	if err != nil {
		return h, ch, fmt.Errorf("replay: %s: %w", h.Record, err)
	}
	fr, err := rec.Frames()
	if err != nil {
		return h, ch, fmt.Errorf("replay: %w", err)
	}
	defer fr.Close()
	sig := h.Signals[ch]
	v := make([]int, len(h.Signals))
	ok := make([]bool, len(h.Signals))
	for i := int64(0); ; i++ {
		if i%65536 == 0 && ctx.Err() != nil {
			return h, ch, ctx.Err()
		}
		err := fr.ReadFrame(v, ok)
		if err == io.EOF {
			return h, ch, nil
		}
		if err != nil {
			return h, ch, fmt.Errorf("replay: %w", err)
		}
		b, got := det.Push(sig.Physical(v[ch]), ok[ch])
		if err := visit(i, det, b, got); err != nil {
			return h, ch, err
		}
	}
}

// Beats replays a record and returns every detected beat.
func Beats(ctx context.Context, path string, ch int) ([]ecg.Beat, *wfdb.Header, error) {
	var beats []ecg.Beat
	h, _, err := Run(ctx, path, ch, 0, func(_ int64, _ *ecg.Detector, b ecg.Beat, ok bool) error {
		if ok {
			beats = append(beats, b)
		}
		return nil
	})
	return beats, h, err
}
