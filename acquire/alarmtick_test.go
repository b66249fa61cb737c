package acquire

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"medagent/config"
	"medagent/edge/ecg/ecgtest"
	"medagent/edge/pipeline"
	"medagent/sensors"
	"medagent/telemetry"
)

// Between windows the edge stage runs the alarm delays every alarmTick: a
// heart-rate step raises its alarm about when the 5 s condition delay
// (counted from the first fast beat) ends, not at a window end.
func TestAlarmRaisedBetweenWindows(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const rate = 500
		x := ecgtest.Render(ecgtest.Rhythm(40, ecgtest.Step(72, 170, 20)), rate, 40)
		p, err := pipeline.New(pipeline.Config{Window: time.Second, MainsHz: 50, Alarms: config.Default().Alarms},
			[]pipeline.Sensor{{Name: "ecg", Kind: pipeline.ECG, Rate: rate, Streams: []pipeline.Stream{{Unit: "mV", MDC: "MDC_ECG_ELEC_POTL_II"}}}})
		if err != nil {
			t.Fatal(err)
		}
		sp := &fakeSpool{}
		tb := newTimebase(time.Now)
		in := make(chan frame, frameQueue)
		e := newEdge(time.Second, p, []string{"ecg"}, in, sp, slog.New(slog.NewTextHandler(io.Discard, nil)), tb)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); e.Run(ctx) }()
		start := tb.at(0)
		// 20-sample frames every 40 ms, as the samplers read them.
		for k := 0; (k+1)*20 <= len(x); k++ {
			time.Sleep(40 * time.Millisecond)
			b := sensors.Block{Stream: "ecg.ii", Unit: "mV", Rate: rate, Mono: time.Duration(k) * 40 * time.Millisecond}
			for _, v := range x[k*20 : (k+1)*20] {
				b.Append(v, true)
			}
			in <- frame{sensor: "ecg", blocks: []sensors.Block{b}}
		}
		time.Sleep(2 * time.Second)
		cancel()
		<-done
		sp.mu.Lock()
		defer sp.mu.Unlock()
		for _, pk := range sp.packs {
			if pk.Class != telemetry.ClassAlarm || pk.Stream != "hr" {
				continue
			}
			lat := pk.Time.Sub(start) - 20*time.Second
			t.Logf("step to high alarm: %v", lat)
			if lat < 5*time.Second || lat > 6500*time.Millisecond || pk.Time.Sub(start)%time.Second == 0 {
				t.Errorf("alarm %v after the step (at a window end: %v), want 5-6.5 s, between windows", lat, pk.Time.Sub(start)%time.Second == 0)
			}
			return
		}
		t.Fatalf("no heart-rate alarm in %d packs", len(sp.packs))
	})
}
