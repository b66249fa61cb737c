package agent

import (
	"context"
	"os"
	"testing"
	"time"

	"medagent/acquire/simbench"
	"medagent/edge/pipeline"
	"medagent/sensors"
	"medagent/spool"
	"medagent/telemetry"
)

// The whole acquire role on the simulators, read back from the real
// spool: the default sensors and a simulated Nonin spool telemetry, and a
// TMP117 configured at an address where no chip answers spools its NACK
// as an event while the agent keeps running.
func TestAcquireRoleRealDriversThroughSpool(t *testing.T) {
	cfg := testConfig(t)
	absent := sensors.Config{Name: "temp2", Driver: "tmp117", Rate: 1, Bus: "sim", Address: 0x49}
	cfg.Sensors = append(cfg.Sensors, sensors.Config{Name: "oxi", Driver: "nonin", Bus: "sim"}, absent)
	a, err := New(Options{Config: cfg, Role: RoleAcquire, Logger: quiet, Bench: simbench.New})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	if err := a.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	key, err := os.ReadFile(cfg.Spool.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	r, err := spool.OpenReader(spool.Options{Dir: cfg.Spool.Dir, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	telem := map[string]int{}
	var nack bool
	var oxiSpO2 float64
	for {
		rctx, rcancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		rec, err := r.Next(rctx)
		rcancel()
		if err != nil {
			break
		}
		p, err := telemetry.Unmarshal(rec.Payload)
		if err != nil {
			t.Fatalf("record %s/%d: %v", rec.Stream, rec.Seq, err)
		}
		switch p.Class {
		case telemetry.ClassTelemetry:
			telem[p.Stream]++
			for _, x := range p.Records {
				if p.Stream == "oxi" && x.Name == pipeline.MDCSpO2 && x.Value != nil {
					oxiSpO2 = *x.Value
				}
			}
		case telemetry.ClassEvent:
			for _, x := range p.Records {
				if p.Stream == "temp2" && x.Name == "event/condition" && x.String == "nack" {
					nack = true
				}
			}
		}
	}
	for _, s := range []string{"ecg", "ppg", "temp", "oxi", "temp2"} {
		if telem[s] < 2 {
			t.Errorf("%d telemetry packs of %s in 4 s", telem[s], s)
		}
	}
	if !nack {
		t.Error("no nack event of the absent TMP117 in the spool")
	}
	if oxiSpO2 < 95 || oxiSpO2 > 99 {
		t.Errorf("Nonin SpO2 %v in the spool, want the patient's 97", oxiSpO2)
	}
}
