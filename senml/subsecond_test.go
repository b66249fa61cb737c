package senml

import (
	"context"
	"encoding/hex"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"medagent/spool"
	"medagent/telemetry"
)

// TestSubSecondEndToEnd pins millisecond (and finer) times on the whole
// path a pack takes: telemetry.Marshal, the spool (frame time and
// payload), telemetry.Unmarshal, SenML JSON and CBOR (golden files), and
// Decode. Pack times used to be cut to whole seconds in the spool, which
// put waveform samples up to a second early.
func TestSubSecondEndToEnd(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 5, 0, 0, 123_400_000, time.UTC) // .1234 s
	p := telemetry.Pack{Stream: "ecg", Class: telemetry.ClassTelemetry, Time: t0, Records: []telemetry.Record{
		{Name: "MDC_ECG_ELEC_POTL_II", Unit: "mV", Value: telemetry.V(0.105)},
		{Name: "MDC_ECG_ELEC_POTL_II", Unit: "mV", Value: telemetry.V(0.11), Offset: 0.002},
		{Name: "MDC_ECG_ELEC_POTL_II", Unit: "mV", Value: telemetry.V(0.12), Offset: 0.998},
	}}
	payload, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	o := spool.Options{Dir: t.TempDir(), Key: make([]byte, 32), PollInterval: time.Millisecond}
	w, err := spool.OpenWriter(o)
	if err != nil {
		t.Fatal(err)
	}
	seq, err := w.Append(context.Background(), p.Class, p.Stream, p.Time, payload)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	r, err := spool.OpenReader(o)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rec, err := r.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Time.Equal(t0) {
		t.Fatalf("spool frame time %v, want %v", rec.Time, t0)
	}
	got, err := telemetry.Unmarshal(rec.Payload)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Time.Equal(t0) {
		t.Fatalf("pack time after the spool %v, want %v", got.Time, t0)
	}
	for _, f := range []Format{JSON, CBOR} {
		b, err := Encode(nil, got, seq, urn, f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Join("testdata", "subsecond.json")
		file := append(append([]byte(nil), b...), '\n')
		if f == CBOR {
			name = filepath.Join("testdata", "subsecond.cbor.hex")
			file = []byte(hex.EncodeToString(b) + "\n")
		}
		golden(t, name, file)
		if f == JSON && !strings.Contains(string(b), `"bt":1795928400.1234,`) {
			t.Errorf("JSON base time is not 1795928400.1234: %s", b)
		}
		res, err := Decode(b, f)
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range res.Records {
			want := t0.Add(time.Duration(math.Round(p.Records[i].Offset * 1e9)))
			if d := e.At().Sub(want); d < -time.Microsecond || d > time.Microsecond {
				t.Errorf("%v record %d at %v, want %v (±1 µs)", f, i, e.At(), want)
			}
		}
	}
}
