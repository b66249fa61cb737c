package spool

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// WriteStats prints the statistics of the spool in dir, as "medagent spool
// stats --dir" shows them (a table, or JSON). It needs no key and no lock,
// so it works beside a running agent; its numbers are then a snapshot.
func WriteStats(ctx context.Context, stdout io.Writer, dir string, asJSON bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s, err := ReadStats(dir)
	if err != nil && s.Classes == nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if jerr := enc.Encode(statsJSON(s)); jerr != nil {
			return errors.Join(err, jerr)
		}
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "class\tpending\tpending bytes\toldest pending\tevicted\trefused\tsegments\tbytes")
	for _, c := range classes {
		cs := s.Classes[c]
		oldest := "-"
		if !cs.Oldest.IsZero() {
			oldest = cs.Oldest.UTC().Format(time.RFC3339)
			if cs.OldestApprox {
				oldest = "≥" + oldest
			}
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%d\t%d\t%d\t%d\n", c, cs.Pending, cs.PendingBytes, oldest, cs.Evicted, cs.Refused, cs.Segments, cs.Bytes)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "disk bytes %d, encrypted %t, corrupt frames skipped %d, damaged spans pending %d, torn tails %d\n",
		s.DiskBytes, s.Encrypted, s.CorruptFrames, s.DamagedSpans, s.TornTails)
	fmt.Fprintf(stdout, "reserve bytes %d, loss reports not yet stored %d\n", s.ReserveBytes, s.UnreportedLosses)
	return err
}

type classJSON struct {
	Pending      uint64     `json:"pending"`
	PendingBytes int64      `json:"pending_bytes"`
	Oldest       *time.Time `json:"oldest,omitempty"`
	OldestApprox bool       `json:"oldest_approx,omitempty"`
	Evicted      uint64     `json:"evicted"`
	Refused      uint64     `json:"refused"`
	Segments     int        `json:"segments"`
	Bytes        int64      `json:"bytes"`
}

func statsJSON(s Stats) any {
	cls := map[string]classJSON{}
	for c, cs := range s.Classes {
		j := classJSON{cs.Pending, cs.PendingBytes, nil, cs.OldestApprox, cs.Evicted, cs.Refused, cs.Segments, cs.Bytes}
		if !cs.Oldest.IsZero() {
			t := cs.Oldest.UTC()
			j.Oldest = &t
		}
		cls[c.String()] = j
	}
	return struct {
		Classes       map[string]classJSON `json:"classes"`
		DiskBytes     int64                `json:"disk_bytes"`
		Encrypted     bool                 `json:"encrypted"`
		CorruptFrames uint64               `json:"corrupt_frames"`
		DamagedSpans  uint64               `json:"damaged_spans"`
		TornTails     uint64               `json:"torn_tails"`
		ReserveBytes  int64                `json:"reserve_bytes"`
		Unreported    int                  `json:"unreported_losses"`
	}{cls, s.DiskBytes, s.Encrypted, s.CorruptFrames, s.DamagedSpans, s.TornTails, s.ReserveBytes, s.UnreportedLosses}
}
