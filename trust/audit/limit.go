package audit

import (
	"errors"
	"strconv"
	"time"
)

// ErrDropped is returned by Record for an entry the flood bound dropped
// (it is counted, see Options.Burst).
var ErrDropped = errors.New("audit: entry dropped by the flood bound (counted in audit.dropped)")

// Flood bound defaults.
const (
	defaultBurst = 20
	defaultEvery = 10 * time.Second
	// maxKinds bounds the buckets kept; kinds beyond share one.
	maxKinds = 64
)

// Kinds of the flood bound's own entries.
const (
	KindDropping = "audit.dropping" // a kind started to be dropped
	KindDropped  = "audit.dropped"  // how many of a kind were dropped
)

// bucket is one kind's token bucket and its drops since the last
// audit.dropped entry.
type bucket struct {
	tokens      float64
	at          time.Time // of the last refill
	dropped     uint64
	first, last time.Time // of the drops
	since       uint64    // seq of the episode's audit.dropping entry
}

// admit says whether an entry of kind may be written now (l.mu held). It
// first writes the entries the bound owes: audit.dropping when kind starts
// to be dropped, audit.dropped with the count when it may be written again.
func (l *Log) admit(kind string) bool {
	now := l.o.Now()
	key := kind
	if _, ok := l.buckets[key]; !ok && len(l.buckets) >= maxKinds {
		key = "*"
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: float64(l.o.Burst), at: now}
		l.buckets[key] = b
	}
	if d := now.Sub(b.at); d > 0 {
		b.tokens = min(float64(l.o.Burst), b.tokens+float64(d)/float64(l.o.Every))
	}
	b.at = now
	if b.dropped > 0 && b.tokens >= 2 {
		// The drops' count takes one token, the entry another.
		b.tokens--
		l.flushDropped(key, b)
	}
	if b.tokens >= 1 && b.dropped == 0 {
		b.tokens--
		return true
	}
	if b.dropped == 0 {
		b.first = now
		l.write(KindDropping, map[string]string{"kind": key, "burst": strconv.Itoa(l.o.Burst), "every": l.o.Every.String()})
		b.since = l.head.Seq
		l.log.Warn("audit: entries of a kind come faster than the bound; dropping and counting them", "kind", key)
	}
	b.dropped++
	b.last = now
	l.noteDrop(now)
	return false
}

// flushDropped writes kind's audit.dropped entry and clears its count;
// the count kept on disk goes with it (drops.go).
func (l *Log) flushDropped(kind string, b *bucket) {
	l.write(KindDropped, map[string]string{"kind": kind, "count": strconv.FormatUint(b.dropped, 10),
		"first": b.first.UTC().Format(time.RFC3339Nano), "last": b.last.UTC().Format(time.RFC3339Nano),
		"since": strconv.FormatUint(b.since, 10)})
	b.dropped = 0
	if l.dropsOnDisk {
		l.syncDrops()
	}
}

// flushAll writes every pending audit.dropped entry (at Close).
func (l *Log) flushAll() {
	for _, k := range sortedBucketKeys(l.buckets) {
		if b := l.buckets[k]; b.dropped > 0 {
			l.flushDropped(k, b)
		}
	}
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	l.syncDrops()
}

func sortedBucketKeys(m map[string]*bucket) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sortStrings(ks)
	return ks
}
