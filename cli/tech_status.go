package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"medagent/control"
	"medagent/internal/cmdline"
)

func statusCmd() *cmdline.Command {
	return &cmdline.Command{
		Name:    "status",
		Summary: "show the running agent on one screen",
		Help: `Shows the running agent on one screen: version, device id, uptime, boot
slot and commit state, broker connection, spool depth and oldest record
age, each sensor's state, active alarms and certificate expiry. Exits 3
when the agent is not running.`,
		Examples: []string{"medagent status", "medagent status --json | jq .spool"},
		Flags: func(fs *flag.FlagSet) cmdline.Run {
			o := techFlags(fs)
			return func(ctx context.Context, e env, args []string) error {
				if len(args) != 0 {
					return usagef("takes no arguments")
				}
				var s control.Status
				if err := o.call(ctx, control.Request{Cmd: control.CmdStatus}, &s); err != nil {
					return err
				}
				if o.json {
					return printJSON(e.Stdout, s)
				}
				printStatus(e.Stdout, s, time.Now())
				return nil
			}
		},
	}
}

func printStatus(w io.Writer, s control.Status, now time.Time) {
	linef(w, "medagent %s (commit %s)  role %s", s.Version, s.Commit, s.Role)
	linef(w, "device       %s", s.DeviceID)
	linef(w, "uptime       %s (since %s)", dur(time.Duration(s.UptimeSeconds*float64(time.Second))), s.StartedAt.Format(time.RFC3339))
	boot := s.Boot.State
	if s.Boot.ActiveSlot != "" {
		boot = "slot " + s.Boot.ActiveSlot + ", " + boot
	}
	if s.Boot.Note != "" {
		boot += " (" + s.Boot.Note + ")"
	}
	linef(w, "boot         %s", boot)
	switch {
	case !s.Broker.Enabled:
		linef(w, "broker       %s (published by the uplink process)", s.Broker.URL)
	case s.Broker.Connected:
		linef(w, "broker       %s connected, %d published, %d in flight", s.Broker.URL, s.Broker.Published, s.Broker.InFlight)
	default:
		msg := "disconnected"
		if s.Broker.LastError != "" {
			msg += ": " + rootCause(s.Broker.LastError) // the whole error is in --json
		}
		linef(w, "broker       %s %s", s.Broker.URL, msg)
	}
	if f := s.Fleet; f != nil {
		msg := f.Auth
		switch {
		case f.Auth == "pending acceptance":
			msg += fmt.Sprintf(" since %s (%d requests), an operator must accept the device", f.AuthSince.Format("15:04:05"), f.AuthTries)
		case f.Deployment != "":
			msg += fmt.Sprintf(", deployment %s of %s: %s", f.Deployment, f.Artifact, f.DeployState)
		}
		if f.LastError != "" && f.Auth != "pending acceptance" {
			msg += ": " + rootCause(f.LastError)
		}
		if !f.NextTry.IsZero() && f.Auth != "accepted" {
			msg += ", next try " + f.NextTry.Format("15:04:05")
		}
		linef(w, "fleet        %s %s", f.Server, msg)
	}
	for _, x := range s.Security {
		linef(w, "security     %s", x) // monitoring goes on
	}
	oldest := "none pending"
	if s.Spool.Pending > 0 {
		oldest = "oldest " + dur(time.Duration(s.Spool.OldestAgeSeconds*float64(time.Second))) + " old"
	}
	linef(w, "spool        %d pending (%s), %s, %d evicted", s.Spool.Pending, bytesize(s.Spool.PendingBytes), oldest, s.Spool.Evicted)
	if c := s.Certificate; c != nil {
		linef(w, "certificate  %s, expires %s (%d days)", c.Subject, c.NotAfter.Format("2006-01-02"), c.DaysLeft)
	} else {
		linef(w, "certificate  unreadable: %s", s.CertError)
	}
	linef(w, "sensors")
	for _, x := range s.Sensors {
		printSensor(w, x)
	}
	if len(s.Alarms) == 0 {
		linef(w, "alarms       none")
		return
	}
	linef(w, "alarms       %d active", len(s.Alarms))
	for _, a := range s.Alarms {
		printAlarm(w, a, now)
	}
}

func printSensor(w io.Writer, x control.Sensor) {
	state := x.State
	if x.Simulated {
		state += " SIMULATED" // never a patient's data
	}
	linef(w, "  %-8s %-9s %5s Hz  %-8s %s", x.Name, x.Driver, fmt.Sprintf("%g", x.Rate), state, valuesLine(x.Values))
}

// rootCause is the last part of a wrapped error message ("a: b: c" -> "c").
func rootCause(msg string) string {
	if i := strings.LastIndex(msg, ": "); i >= 0 && i+2 < len(msg) {
		return msg[i+2:]
	}
	return msg
}
