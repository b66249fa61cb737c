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

// Source yields the samples of one ECG lead in mV, in order: ok false marks
// an invalid sample, io.EOF ends the signal, any other error is damage.
type Source func() (x float64, ok bool, err error)

// replayVitals replays one channel of a WFDB record through VitalsLines
// with the adult alarm defaults.
func replayVitals(ctx context.Context, w io.Writer, path string, ch int, mains float64) error {
	rec, err := wfdb.OpenRecord(path)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	h := rec.Header
	if ch, err = SelectChannel(h, ch); err != nil {
		return err
	}
	fr, err := rec.Frames()
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	defer fr.Close()
	sig := h.Signals[ch]
	v := make([]int, len(h.Signals))
	ok := make([]bool, len(h.Signals))
	src := func() (float64, bool, error) {
		if err := fr.ReadFrame(v, ok); err != nil {
			return 0, false, err
		}
		return sig.Physical(v[ch]), ok[ch], nil
	}
	return VitalsLines(ctx, w, src, h.Freq, mains, alarm.Defaults())
}

// VitalsLines replays a lead sampled at rate Hz through the agent's own edge
// pipeline (heart rate, signal quality, window statistics, alarms with
// cfg) and writes one line per whole second of signal:
//
//	SECOND<TAB>HR<TAB>QUALITY[<TAB>alarm=NAME:raised|cleared:PRIORITY:CONDITION]...
//
// HR is "0.0" when the pipeline has no valid heart rate (noise, no beats,
// lead off; and in asystole, whose rate is 0), QUALITY the signal quality
// index 0..1, and NAME the alarm's stream: the vital for a physiological
// alarm ("hr"), "tech-" and the source for a technical one ("tech-ecg").
// When src fails, the seconds already complete have been written and the
// error is returned.
func VitalsLines(ctx context.Context, w io.Writer, src Source, rate, mains float64, cfg alarm.Config) error {
	p, err := pipeline.New(pipeline.Config{Window: time.Second, MainsHz: mains, Alarms: cfg},
		[]pipeline.Sensor{{Name: "ecg", Kind: pipeline.ECG, Rate: rate, Streams: []pipeline.Stream{{Unit: "mV", MDC: pipeline.MDCECGLeadII}}}})
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	blk := []sensors.Block{{Stream: "ecg.II", Unit: "mV", Rate: rate}}
	var sec int64
	for i := int64(0); ; i++ {
		if i%65536 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		x, ok, err := src()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("replay: %w", err)
		}
		b := &blk[0]
		if len(b.Samples) == 0 {
			b.Wall = replayEpoch.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		}
		b.Append(x, ok)
		// Flush at the last sample of every whole second.
		if int64(float64(i+1)/rate) == sec {
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
