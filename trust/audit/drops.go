package audit

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"medagent/internal/authfile"
)

// Drop counts survive a power cut: while entries are dropped, their counts
// are kept in audit.drops (authenticated like the head, written durably),
// at most once per Options.DropSync for all kinds together, so a flood
// costs the disk one small file rewrite per interval, not one write per
// dropped entry. Open turns what it finds there into audit.dropped entries
// marked recovered; an episode whose audit.dropped entry is already in the
// trail (a cut between that entry and the file's update) is not counted
// twice. What a power cut can still lose: the drops of the last DropSync
// before it.

const (
	dropsName    = "audit.drops"
	dropsFormat  = "medagent-audit-drops"
	maxDropsFile = 64 << 10
	// defaultDropSync is Options.DropSync's default.
	defaultDropSync = time.Second
)

// pendingDrop is one kind's drops not yet in an audit.dropped entry.
type pendingDrop struct {
	Count uint64    `json:"count"`
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	// Since is the seq of the audit.dropping entry that opened the
	// episode: its audit.dropped entry carries it too.
	Since uint64 `json:"since"`
}

type dropsFile struct {
	Kinds map[string]pendingDrop `json:"kinds"`
}

// noteDrop keeps the drop counts on disk within DropSync of a drop (l.mu
// held): now when the last sync is that long ago, else by a timer.
func (l *Log) noteDrop(now time.Time) {
	if l.timer != nil {
		return // a sync is scheduled
	}
	wait := l.syncAt.Add(l.o.DropSync).Sub(now)
	if wait <= 0 {
		l.syncDrops()
		return
	}
	l.timer = time.AfterFunc(wait, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.timer = nil
		if l.f != nil {
			l.syncDrops()
		}
	})
}

// syncDrops writes the pending counts to audit.drops, or removes it when
// none are pending (l.mu held). A failure is logged: the counts are still
// in memory and written at the next sync or in audit.dropped.
func (l *Log) syncDrops() {
	l.syncAt = l.o.Now()
	pending := map[string]pendingDrop{}
	for k, b := range l.buckets {
		if b.dropped > 0 {
			pending[k] = pendingDrop{Count: b.dropped, First: b.first.UTC(), Last: b.last.UTC(), Since: b.since}
		}
	}
	p := filepath.Join(l.o.Dir, dropsName)
	if len(pending) == 0 {
		if !l.dropsOnDisk {
			return
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			l.log.Error("audit: remove drop counts", "err", err)
			return
		}
		syncDir(l.o.Dir)
		l.dropsOnDisk = false
		return
	}
	b, err := authfile.Marshal(l.o.Key, dropsFormat, 1, dropsFile{Kinds: pending})
	if err == nil {
		err = authfile.Write(p, b)
	}
	if err != nil {
		l.log.Error("audit: keep drop counts", "err", err)
		return
	}
	l.dropsOnDisk = true
	l.dropWrites++
}

// recoverDrops records the counts a previous run left in audit.drops as
// audit.dropped entries (during Open), unless the trail in rep already
// holds that episode's audit.dropped entry, and removes the file.
func (l *Log) recoverDrops(rep Report) {
	p := filepath.Join(l.o.Dir, dropsName)
	b, err := authfile.Read(p, maxDropsFile)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	var d dropsFile
	if err == nil {
		err = authfile.Unmarshal(l.o.Key, dropsFormat, 1, b, &d)
	}
	if err != nil {
		l.log.Error("audit: drop counts of the last run failed their check", "err", err)
		l.write("audit.check_failed", map[string]string{"problems": "1", "problem_0": dropsName + ": " + err.Error()})
		if qerr := authfile.Quarantine(p); qerr != nil {
			l.log.Error("audit: keep drop counts aside", "err", qerr)
		}
		return
	}
	done := map[string]bool{}
	for _, e := range rep.Entries {
		if e.Kind == KindDropped {
			done[e.Fields["kind"]+"\x00"+e.Fields["since"]] = true
		}
	}
	for _, k := range sortedPendingKeys(d.Kinds) {
		pd := d.Kinds[k]
		since := strconv.FormatUint(pd.Since, 10)
		if pd.Count == 0 || done[k+"\x00"+since] {
			continue
		}
		l.write(KindDropped, map[string]string{"kind": k, "count": strconv.FormatUint(pd.Count, 10),
			"first": pd.First.Format(time.RFC3339Nano), "last": pd.Last.Format(time.RFC3339Nano), "since": since,
			"recovered": "counted before the agent stopped without closing the trail; drops in the last " + l.o.DropSync.String() + " before that are not counted"})
	}
	l.dropsOnDisk = true
	l.syncDrops() // nothing pending yet: removes the file
}

func sortedPendingKeys(m map[string]pendingDrop) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sortStrings(ks)
	return ks
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
