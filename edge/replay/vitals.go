package replay

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"medagent/edge/alarm"
	"medagent/edge/pipeline"
	"medagent/sensors"
	"medagent/telemetry"
	"medagent/wfdb"
)

// replayEpoch is the wall time given to the record's first sample: replay
// has no clock, so times are record time from this fixed origin.
var replayEpoch = time.Unix(0, 0).UTC()

// replayVitals replays one channel through the whole edge pipeline (the agent's
// own: heart rate, window statistics and alarms with adult defaults) and
// prints one line per whole second of record time:
//
//	second<TAB>hr_bpm<TAB>quality[<TAB>alarm ...]
//
// with hr 0 when the pipeline has no valid heart rate, and one
// "alarm=<vital|source>:<event>:<priority>:<condition>" column per alarm
// transition of that second.
func replayVitals(ctx context.Context, w io.Writer, path string, ch int, mains float64) error {
	rec, err := wfdb.OpenRecord(path)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	h := rec.Header
	if ch, err = SelectChannel(h, ch); err != nil {
		return err
	}
	p, err := pipeline.New(pipeline.Config{Window: time.Second, MainsHz: mains, Alarms: alarm.Defaults()},
		[]pipeline.Sensor{{Name: "ecg", Kind: pipeline.ECG, Rate: h.Freq, Streams: []pipeline.Stream{{Unit: "mV", MDC: pipeline.MDCECGLeadII}}}})
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	fr, err := rec.Frames()
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	defer fr.Close()
	sig := h.Signals[ch]
	v := make([]int, len(h.Signals))
	ok := make([]bool, len(h.Signals))
	blk := []sensors.Block{{Stream: "ecg.II", Unit: "mV", Rate: h.Freq}}
	var sec int64
	for i := int64(0); ; i++ {
		if i%65536 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		err := fr.ReadFrame(v, ok)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("replay: %w", err)
		}
		b := &blk[0]
		if len(b.Samples) == 0 {
			b.Wall = replayEpoch.Add(time.Duration(float64(i) / h.Freq * float64(time.Second)))
		}
		b.Append(sig.Physical(v[ch]), ok[ch])
		// Flush at the last sample of every whole second.
		if int64(float64(i+1)/h.Freq) == sec {
			continue
		}
		sec++
		p.Push("ecg", blk)
		b.Reset()
		if err := printSecond(w, sec, p.Flush(replayEpoch.Add(time.Duration(sec)*time.Second))); err != nil {
			return err
		}
	}
}

func printSecond(w io.Writer, sec int64, packs []telemetry.Pack) error {
	var hr, q float64
	var alarms []string
	for _, pk := range packs {
		if pk.Class == telemetry.ClassAlarm {
			f := map[string]string{}
			for _, r := range pk.Records {
				f[r.Name] = r.String
			}
			alarms = append(alarms, fmt.Sprintf("alarm=%s:%s:%s:%s", pk.Stream, f["alarm/event"], f["alarm/priority"], f["alarm/condition"]))
			continue
		}
		for _, r := range pk.Records {
			switch {
			case r.Name == pipeline.MDCHeartRate && r.Value != nil:
				hr = *r.Value
			case r.Name == pipeline.MDCHeartRate+"/quality" && r.Value != nil:
				q = *r.Value
			}
		}
	}
	line := fmt.Sprintf("%d\t%.1f\t%.2f", sec, hr, q)
	if len(alarms) > 0 {
		line += "\t" + strings.Join(alarms, "\t")
	}
	_, err := fmt.Fprintln(w, line)
	return err
}
