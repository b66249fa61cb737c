package uplink_test

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"medagent/senml"
	"medagent/spool"
	"medagent/telemetry"
	"medagent/tlsconf/tlstest"
	"medagent/uplink"
	"medagent/uplink/mosquittotest"
	"medagent/uplink/uplinktest"
)

// The demo's backlog: 10 minutes of the three default sensors (ecg, ppg,
// temp) at one pack per second, plus one alarm every 10 s.
const (
	backlogMinutes = 10
	demoStreams    = 3
	backlogTel     = backlogMinutes * 60 * demoStreams // 1800
	backlogAlarms  = backlogMinutes * 6                // 60
	backlogRecords = backlogTel + backlogAlarms        // 1860
)

var demoStreamNames = [demoStreams]string{"ecg", "ppg", "temp"}

// backlogPacks returns the backlog in append order.
func backlogPacks() []telemetry.Pack {
	var out []telemetry.Pack
	for i := range backlogMinutes * 60 {
		for _, s := range demoStreamNames {
			p := vitals(i)
			p.Stream = s
			out = append(out, p)
		}
		if i%10 == 0 {
			out = append(out, alarm(i))
		}
	}
	return out
}

type benchEnv struct {
	pki *tlstest.PKI
	b   *mosquittotest.Broker
	mon *mosquittotest.Monitor
}

func newBenchEnv(b *testing.B) benchEnv {
	p := writePKI(b)
	br := mosquittotest.Start(b, p.Dir)
	// A subscriber on everything, so the broker does the fan-out work too
	// and the test can check that everything arrived.
	mon := mosquittotest.Subscribe(b, br, p.Dir, "medagent/v1/#", mosquittotest.MonitorOptions{})
	return benchEnv{p, br, mon}
}

// drain runs an uplink on src until n records are acked and returns the
// time from Run to the last ack (connect and TLS handshake included).
func (e benchEnv) drain(b *testing.B, src uplink.Source, n int) time.Duration {
	o := options(e.pki, e.b)
	u, err := uplink.New(o, src, discard)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- u.Run(ctx) }()
	for u.Status().Acked < uint64(n) {
		time.Sleep(time.Millisecond)
	}
	d := time.Since(start)
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	return d
}

// BenchmarkDrainBacklog drains the demo's 10-minute backlog (1860 records)
// from the in-memory fake spool into the local mosquitto over mutual TLS at
// QoS 1 (target: under 30 s).
func BenchmarkDrainBacklog(b *testing.B) {
	e := newBenchEnv(b)
	packs := backlogPacks()
	var total time.Duration
	for range b.N {
		b.StopTimer()
		src := uplinktest.NewSource()
		for _, p := range packs {
			src.Append(p)
		}
		b.StartTimer()
		total += e.drain(b, src, len(packs))
	}
	report(b, total, len(packs))
}

// BenchmarkDrainBacklogRealSpool is BenchmarkDrainBacklog reading from the
// real spool (files, CRC, cursor persistence; no encryption).
func BenchmarkDrainBacklogRealSpool(b *testing.B) {
	e := newBenchEnv(b)
	packs := backlogPacks()
	var total time.Duration
	for range b.N {
		b.StopTimer()
		o := spool.Options{Dir: b.TempDir()}
		w, err := spool.OpenWriter(o)
		if err != nil {
			b.Fatal(err)
		}
		// One appender per stream: the writer's group commit shares fsyncs.
		byStream := map[string][]telemetry.Pack{}
		for _, p := range packs {
			byStream[p.Stream] = append(byStream[p.Stream], p)
		}
		var wg sync.WaitGroup
		for _, ps := range byStream {
			wg.Go(func() {
				for _, p := range ps {
					appendPack(b, w, p)
				}
			})
		}
		wg.Wait()
		r, err := spool.OpenReader(o)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		total += e.drain(b, r, len(packs))
		b.StopTimer()
		r.Close()
		w.Close()
		b.StartTimer()
	}
	report(b, total, len(packs))
}

func report(b *testing.B, total time.Duration, n int) {
	per := total.Seconds() / float64(b.N)
	b.ReportMetric(float64(n), "records/op")
	b.ReportMetric(per, "s/drain")
	b.ReportMetric(float64(n)/per, "records/s")
}

// BenchmarkVsMosquittoPub publishes the backlog with the uplink and then
// the same number of messages of the same size with mosquitto_pub -l (Debian
// mosquitto-clients), QoS 1, same broker, same TLS identity, and reports
// both rates and uplink/mosquitto_pub.
func BenchmarkVsMosquittoPub(b *testing.B) {
	pub, err := exec.LookPath("mosquitto_pub")
	if err != nil {
		b.Fatal("mosquitto_pub not found: install Debian package mosquitto-clients (scripts/setup.sh)")
	}
	e := newBenchEnv(b)
	packs := backlogPacks()
	// Lines of the size of the rendered packs (JSON has no newlines).
	var lines bytes.Buffer
	for i, p := range packs {
		payload, err := senml.Encode(nil, p, uint64(i+1), "urn:dev:sn:"+device+":", senml.JSON)
		if err != nil {
			b.Fatal(err)
		}
		lines.Write(payload)
		lines.WriteByte('\n')
	}
	const pubTopic = "medagent/v1/" + device + "/telemetry/mosquitto_pub"
	host, port := "127.0.0.1", e.b.Addr[len("127.0.0.1:"):]
	var tUp, tPub time.Duration
	for i := range b.N {
		src := uplinktest.NewSource()
		for _, p := range packs {
			src.Append(p)
		}
		tUp += e.drain(b, src, len(packs))

		cmd := exec.Command(pub, "-h", host, "-p", port, "-q", "1", "-l",
			"-i", "bench-pub-"+strconv.Itoa(i), "-t", pubTopic,
			"--cafile", filepath.Join(e.pki.Dir, tlstest.CAFile),
			"--cert", filepath.Join(e.pki.Dir, tlstest.DeviceCertFile),
			"--key", filepath.Join(e.pki.Dir, tlstest.DeviceKeyFile))
		cmd.Stdin = bytes.NewReader(lines.Bytes())
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		start := time.Now()
		if err := cmd.Run(); err != nil {
			b.Fatalf("mosquitto_pub: %v: %s", err, out.Bytes())
		}
		tPub += time.Since(start)
		want := (i + 1) * len(packs)
		e.mon.WaitFor(b, 30*time.Second, fmt.Sprintf("%d mosquitto_pub messages", want), countOn(pubTopic, want))
	}
	up := float64(len(packs)*b.N) / tUp.Seconds()
	mp := float64(len(packs)*b.N) / tPub.Seconds()
	b.ReportMetric(up, "uplink_records/s")
	b.ReportMetric(mp, "mosquitto_pub_records/s")
	b.ReportMetric(up/mp, "ratio")
}
