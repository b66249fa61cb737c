package spool

import (
	"time"

	"medagent/telemetry"
)

// Record is one entry of the spool as the reader sees it.
type Record struct {
	Class  telemetry.Class
	Stream string
	// Seq is the per-stream sequence number assigned by Writer.Append:
	// 1, 2, 3 ... without gaps, across restarts and evictions.
	Seq     uint64
	Time    time.Time
	Payload []byte
	// ID locates the record for Reader.Ack.
	ID ID
}

// ID locates a record in the spool: its class log, segment and offset.
type ID struct {
	Class   telemetry.Class
	Segment uint64
	Offset  int64
}
