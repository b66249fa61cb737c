package devices_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"

	"medagent/hal/buserr"
	"medagent/hal/devices"
	"medagent/sensors/sim"
)

func TestCommandSim(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		lines int // readings expected
		want  []string
	}{
		{"tmp117", []string{"-driver", "tmp117", "-bus", "sim", "-address", "0x48", "-rate", "4", "-drdy", "sim:tmp117-alert", "-n", "2"},
			2, []string{"TMP117 ID ok, period 250ms", "temperature 3"}},
		{"max30102", []string{"-driver", "max30102", "-bus", "sim", "-address", "0x57", "-rate", "400", "-option", "pulse_width=69", "-n", "12"},
			12, []string{"part ID ok, 400 samples/s", "red "}},
		{"ads1292r", []string{"-driver", "ads1292r", "-bus", "sim", "-spi-mode", "1", "-drdy", "sim:ads-drdy", "-rate", "1000",
			"-option", "lead_off=true", "-n", "20"}, 20, []string{"ADS1292R ID ok, period 1ms", "leadoff 00000"}},
		{"nonin", []string{"-driver", "nonin", "-bus", "sim", "-n", "1"}, 1, []string{fmt.Sprintf("HR %.0f SpO2 %.0f",
			sim.DefaultPatientOptions().HeartRate, sim.DefaultPatientOptions().SpO2), "bad checksums 0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if err := devices.Command(context.Background(), &out, &errb, append(tc.args, "-sim")); err != nil {
				t.Fatalf("%v\n%s", err, errb.String())
			}
			s := out.String()
			for _, w := range tc.want {
				if !strings.Contains(s, w) {
					t.Fatalf("output lacks %q:\n%s", w, s)
				}
			}
			if got := strings.Count(s, "\n"); got < tc.lines+1 {
				t.Fatalf("%d lines, want at least %d:\n%s", got, tc.lines+1, s)
			}
		})
	}
}

func TestCommandUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if err := devices.Command(context.Background(), &out, &errb, []string{"-driver", "foo", "-sim"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("unknown driver: %v", err)
	}
	if err := devices.Command(context.Background(), &out, &errb, []string{"-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	err := devices.Command(context.Background(), &out, &errb, []string{"-driver", "tmp117", "-bus", "sim", "-address", "0x4b", "-sim"})
	if !errors.Is(err, buserr.ErrNACK) {
		t.Fatalf("no chip at 0x4b: %v", err)
	}
}
