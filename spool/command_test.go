package spool

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"strings"
	"testing"
)

func TestCommand(t *testing.T) {
	o := testOpts(t, true)
	w := mustWriter(t, o)
	mustAppend(t, w, cA, "hr-high", 0)
	mustAppend(t, w, cT, "ecg", 0)
	mustAppend(t, w, cT, "ecg", 0)
	w.Close()
	ctx := context.Background()

	var out, errb bytes.Buffer
	if err := Command(ctx, &out, &errb, []string{"stats", "--dir", o.Dir}); err != nil {
		t.Fatal(err, errb.String())
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
	if err := Command(ctx, &out, &errb, []string{"stats", "-json", "-dir", o.Dir}); err != nil {
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

	for _, args := range [][]string{nil, {"bogus"}, {"stats"}, {"stats", "--dir", o.Dir, "extra"}, {"stats", "--nope"}} {
		if err := Command(ctx, &out, &errb, args); !errors.Is(err, flag.ErrHelp) && !strings.Contains(fmtErr(err), "flag provided but not defined") {
			t.Errorf("%q: err = %v, want a usage error", args, err)
		}
	}
	if err := Command(ctx, &out, &errb, []string{"stats", "--dir", o.Dir + "/missing"}); err == nil || errors.Is(err, flag.ErrHelp) {
		t.Errorf("missing dir: %v", err)
	}
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
