// Command alarmlatency measures the end-to-end alarm latency of the real
// agent: the simulated patient's SpO2 (or heart rate) steps across an alarm
// limit at a known time, and a subscriber on a local mosquitto (mutual TLS)
// timestamps the arrival of the alarm. The latency is from the step to the
// alarm message at the subscriber; it includes the PPG's pulse averaging
// and the configured onset delay, which are printed beside it so that the
// agent's own share (windowing, spool, uplink, broker) can be read off.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"medagent/bench/internal/benchrig"
	"medagent/edge/alarm"
	"medagent/senml"
	"medagent/tlsconf"
	"medagent/tlsconf/tlstest"
)

func main() {
	agent := flag.String("agent", "bin/medagent-sim-linux-amd64", "agent binary (the bench build: simulated sensors)")
	at := flag.Duration("at", 20*time.Second, "when the patient changes, after the agent starts")
	flag.Parse()
	d := alarm.Defaults()
	for _, c := range []struct {
		name, change, stream string
		onset                time.Duration
	}{
		{"SpO2 97 -> 80 % (high priority)", "spo2: 80", "spo2", d.SpO2.OnsetDelay},
		{"HR 72 -> 170 /min (high priority)", "heart_rate: 170", "hr", d.HR.OnsetDelay},
	} {
		lat, err := measure(*agent, *at, c.change, c.stream)
		if err != nil {
			fmt.Fprintln(os.Stderr, "alarmlatency:", err)
			os.Exit(1)
		}
		fmt.Printf("alarm latency %-34s step to alarm at the subscriber: %6.2f s (onset delay %v; remainder %.2f s is averaging, windowing, spool and MQTT)\n",
			c.name, lat.Seconds(), c.onset, (lat - c.onset).Seconds())
	}
}

func measure(agent string, at time.Duration, change, stream string) (time.Duration, error) {
	r, err := benchrig.New("MA-LAT", fmt.Sprintf("sim:\n  changes:\n    - {at: %v, %s}\n", at, change))
	if err != nil {
		return 0, err
	}
	defer r.Close()
	tc, err := tlsconf.Client(tlsconf.Options{
		CAFile:     filepath.Join(r.PKI, tlstest.CAFile),
		CertFile:   filepath.Join(r.PKI, tlstest.MonitorCertFile),
		KeyFile:    filepath.Join(r.PKI, tlstest.MonitorKeyFile),
		ServerName: "localhost",
	})
	if err != nil {
		return 0, err
	}
	raised := make(chan time.Time, 16)
	opts := mqtt.NewClientOptions().AddBroker(fmt.Sprintf("tls://127.0.0.1:%d", r.Port)).
		SetClientID("latency-monitor").SetTLSConfig(tc)
	var c mqtt.Client
	for i := 0; i < 50; i++ { // the broker may still be starting
		c = mqtt.NewClient(opts)
		if tok := c.Connect(); tok.WaitTimeout(5*time.Second) && tok.Error() == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !c.IsConnected() {
		return 0, fmt.Errorf("cannot connect to mosquitto on port %d", r.Port)
	}
	defer c.Disconnect(100)
	topic := "medagent/v1/MA-LAT/alarms/" + stream
	c.Subscribe(topic, 1, func(_ mqtt.Client, m mqtt.Message) {
		now := time.Now()
		res, err := senml.Decode(m.Payload(), senml.JSON)
		if err != nil {
			return
		}
		for _, e := range res.Records {
			if strings.HasSuffix(e.Name, "alarm/priority") && e.String != nil && *e.String == "high" {
				raised <- now
			}
		}
	}).Wait()
	cmd := exec.Command(agent, "run", "--config", r.Config) // its warnings are not the measurement
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	select {
	case t := <-raised:
		return t.Sub(start.Add(at)), nil
	case <-time.After(at + 2*time.Minute):
		b, _ := json.Marshal(change)
		return 0, fmt.Errorf("no high-priority alarm on %s within %v of the change %s", topic, 2*time.Minute, b)
	}
}
