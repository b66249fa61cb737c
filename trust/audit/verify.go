package audit

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Problem is one thing Verify found wrong.
type Problem struct {
	File string // base name
	Line int    // 1-based, 0 for the trail as a whole
	Seq  uint64 // the entry concerned, when known
	What string
}

func (p Problem) String() string {
	if p.Line == 0 {
		return p.What
	}
	return fmt.Sprintf("%s line %d (seq %d): %s", p.File, p.Line, p.Seq, p.What)
}

// Report is what Verify found.
type Report struct {
	Entries   []Entry // every entry read, oldest first
	First     uint64  // first seq kept
	Last      uint64  // last seq
	Problems  []Problem
	HeadFound bool
}

// OK reports an intact trail.
func (r Report) OK() bool { return len(r.Problems) == 0 }

// Verify reads every kept file of the trail in dir, oldest first, and
// checks each entry's mac and chain link, seq continuity across files and
// rotations, and the head (nothing after the recorded last entry was
// deleted, no kept file was removed).
func Verify(dir string, key []byte) Report {
	var r Report
	files := logFiles(dir)
	var prevHash string
	var prevSeq uint64
	first := true
	for _, name := range files {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			r.Problems = append(r.Problems, Problem{File: name, What: err.Error()})
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 4096), maxLine+1)
		n := 0
		for sc.Scan() {
			n++
			line := sc.Bytes()
			var e Entry
			if err := decodeEntry(line, &e); err != nil {
				r.Problems = append(r.Problems, Problem{File: name, Line: n, Seq: prevSeq + 1, What: "not an entry (edited or damaged): " + err.Error()})
				prevHash = lineHash(line)
				prevSeq++
				continue
			}
			if err := checkMAC(key, e); err != nil {
				r.Problems = append(r.Problems, Problem{File: name, Line: n, Seq: e.Seq, What: "edited: " + err.Error()})
			}
			switch {
			case first:
				r.First = e.Seq
				if e.Seq == 1 && e.Prev != "" {
					r.Problems = append(r.Problems, Problem{File: name, Line: n, Seq: e.Seq, What: "the first entry links to a predecessor"})
				}
			case e.Seq != prevSeq+1:
				r.Problems = append(r.Problems, Problem{File: name, Line: n, Seq: e.Seq, What: fmt.Sprintf("entries %d..%d deleted (seq jumps from %d)", prevSeq+1, e.Seq-1, prevSeq)})
			case e.Prev != prevHash:
				r.Problems = append(r.Problems, Problem{File: name, Line: n, Seq: e.Seq, What: "the previous entry was edited, replaced or deleted (chain broken)"})
			}
			first = false
			prevSeq, prevHash = e.Seq, lineHash(line)
			r.Entries = append(r.Entries, e)
		}
		if err := sc.Err(); err != nil {
			r.Problems = append(r.Problems, Problem{File: name, Line: n + 1, What: err.Error()})
		}
		f.Close()
	}
	r.Last = prevSeq
	h, err := readHead(dir, key)
	switch {
	case errors.Is(err, os.ErrNotExist) && len(r.Entries) == 0:
	case err != nil:
		r.Problems = append(r.Problems, Problem{What: "head missing or not authentic (" + err.Error() + "): deletion at the end cannot be excluded"})
	default:
		r.HeadFound = true
		switch {
		case h.Seq > r.Last:
			r.Problems = append(r.Problems, Problem{What: fmt.Sprintf("entries %d..%d deleted at the end (the head records %d)", r.Last+1, h.Seq, h.Seq)})
		case h.Seq == r.Last && h.Hash != prevHash:
			r.Problems = append(r.Problems, Problem{What: fmt.Sprintf("the last entry (seq %d) was replaced", h.Seq)})
		}
		if len(r.Entries) > 0 && r.First > h.First {
			r.Problems = append(r.Problems, Problem{What: fmt.Sprintf("entries %d..%d deleted at the start (a kept file was removed)", h.First, r.First-1)})
		}
	}
	return r
}

// logFiles returns audit.log.N (highest N first) then audit.log.
func logFiles(dir string) []string {
	ents, _ := os.ReadDir(dir)
	type rot struct {
		n    int
		name string
	}
	var rs []rot
	cur := false
	for _, e := range ents {
		switch name := e.Name(); {
		case name == logName:
			cur = true
		case strings.HasPrefix(name, logName+"."):
			if n, err := strconv.Atoi(strings.TrimPrefix(name, logName+".")); err == nil && n > 0 {
				rs = append(rs, rot{n, name})
			}
		}
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].n > rs[j].n })
	var out []string
	for _, r := range rs {
		out = append(out, r.name)
	}
	if cur {
		out = append(out, logName)
	}
	return out
}

// Sanitize returns s with every control or otherwise unprintable character
// (and invalid UTF-8) written as an escape, for a terminal or a log line.
func Sanitize(s string) string {
	clean := true
	for _, c := range s {
		if c == utf8.RuneError || !unicode.IsPrint(c) && c != ' ' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	q := strconv.QuoteToGraphic(s)
	return q[1 : len(q)-1]
}

func sortStrings(s []string) { sort.Strings(s) }
