package control

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

var groupCases = []struct {
	name, status string
	want         []int
	ok           bool
}{
	{"some", "Name:\tbash\nUid:\t1000\t1000\t1000\t1000\nGroups:\t4 24 1001 \nNSpid:\t1\n", []int{4, 24, 1001}, true},
	{"none", "Name:\tx\nGroups:\t\n", nil, true},
	{"missing", "Name:\tx\nUid:\t0\n", nil, false},
	{"garbage", "Groups:\t4 x 5\n", nil, false},
	{"negative", "Groups:\t-1\n", nil, false},
	{"too big", "Groups:\t99999999999\n", nil, false},
}

func TestParseGroups(t *testing.T) {
	for _, c := range groupCases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseGroups([]byte(c.status))
			if (err == nil) != c.ok {
				t.Fatalf("ParseGroups: err %v, want ok=%v", err, c.ok)
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("ParseGroups = %v, want %v", got, c.want)
			}
		})
	}
}

func FuzzParseGroups(f *testing.F) {
	for _, c := range groupCases {
		f.Add([]byte(c.status))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		gs, err := ParseGroups(b)
		if err != nil {
			return
		}
		for _, g := range gs {
			if g < 0 || g > 1<<32-1 {
				t.Fatalf("group %d out of range", g)
			}
		}
	})
}

func TestAccessAllow(t *testing.T) {
	proc := t.TempDir()
	writeStatus := func(pid, groups string) {
		d := filepath.Join(proc, pid)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "status"), []byte("Name:\tx\nGroups:\t"+groups+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeStatus("10", "100 4242")
	writeStatus("11", "100")
	a := access{selfUID: 500, gid: 4242, procDir: proc}
	noGroup := access{selfUID: 500, gid: -1, procDir: proc}
	cases := []struct {
		name  string
		a     access
		p     Peer
		allow bool
	}{
		{"root", a, Peer{PID: 99, UID: 0, GID: 0}, true},
		{"agent user", a, Peer{PID: 99, UID: 500, GID: 500}, true},
		{"primary group", a, Peer{PID: 99, UID: 1000, GID: 4242}, true},
		{"supplementary group", a, Peer{PID: 10, UID: 1000, GID: 1000}, true},
		{"stranger", a, Peer{PID: 11, UID: 1000, GID: 1000}, false},
		{"unreadable status", a, Peer{PID: 12, UID: 1000, GID: 1000}, false},
		{"no medtech group", noGroup, Peer{PID: 10, UID: 1000, GID: 4242}, false},
		{"no medtech group, root", noGroup, Peer{PID: 10, UID: 0, GID: 0}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.a.allow(c.p)
			if (err == nil) != c.allow {
				t.Fatalf("allow(%+v) = %v, want allowed=%v", c.p, err, c.allow)
			}
		})
	}
}
