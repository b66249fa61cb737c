package spool_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"medagent/spool"
	"medagent/telemetry"
)

// The acquire role appends, the uplink role reads (alarms first) and acks
// after the broker's PUBACK. Normally they are two processes.
func Example() {
	dir, _ := os.MkdirTemp("", "spool-example")
	defer os.RemoveAll(dir)
	opts := spool.Options{Dir: dir, Key: make([]byte, 32)} // load a real key from a file

	w, err := spool.OpenWriter(opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Close()
	ctx := context.Background()
	t := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	w.Append(ctx, telemetry.ClassTelemetry, "vitals", t, []byte("pack 1"))
	seq, _ := w.Append(ctx, telemetry.ClassAlarm, "hr-high", t, []byte("alarm"))
	fmt.Println("alarm seq", seq)

	r, err := spool.OpenReader(opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	for range 2 {
		rec, err := r.Next(ctx)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(rec.Class, rec.Stream, rec.Seq, string(rec.Payload))
		r.Ack(rec.ID) // after the PUBACK
	}
	// Output:
	// alarm seq 1
	// alarms hr-high 1 alarm
	// telemetry vitals 1 pack 1
}
