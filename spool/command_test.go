package spool

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func TestWriteStats(t *testing.T) {
	o := testOpts(t, true)
	w := mustWriter(t, o)
	mustAppend(t, w, cA, "hr-high", 0)
	mustAppend(t, w, cT, "ecg", 0)
	mustAppend(t, w, cT, "ecg", 0)
	w.Close()
	ctx := context.Background()

	var out bytes.Buffer
	if err := WriteStats(ctx, &out, o.Dir, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"alarms", "telemetry", "encrypted true", "≥"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "ecg") || strings.Contains(out.String(), "hr-high") {
		t.Errorf("offline stats of an encrypted spool show a stream name:\n%s", out.String())
	}

	out.Reset()
	if err := WriteStats(ctx, &out, o.Dir, true); err != nil {
		t.Fatal(err)
	}
	var j struct {
		Classes map[string]struct {
			Pending uint64 `json:"pending"`
		} `json:"classes"`
		Encrypted bool `json:"encrypted"`
	}
	if err := json.Unmarshal(out.Bytes(), &j); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if j.Classes["telemetry"].Pending != 2 || j.Classes["alarms"].Pending != 1 || !j.Encrypted {
		t.Fatalf("json stats %+v", j)
	}

	if err := WriteStats(ctx, &out, o.Dir+"/missing", false); err == nil {
		t.Errorf("missing dir: %v", err)
	}
}
