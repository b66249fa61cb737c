//go:build qemu

package qemu

import (
	"bytes"
	"fmt"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Boot states with the bench image's partitions (A = 2, B = 3).
func bootVars(part string, upgrade, bootcount string) map[string]string {
	return map[string]string{"mender_boot_part": part, "mender_boot_part_hex": part,
		"upgrade_available": upgrade, "bootcount": bootcount, "bootlimit": "1"}
}

var (
	committedA = bootVars("2", "0", "0")
	armedB     = bootVars("3", "1", "0")
	trialB     = bootVars("3", "1", "1")
	committedB = bootVars("3", "0", "1")
	rolledA    = bootVars("2", "0", "0")
)

// outcome is a boot decision: the partition, upgrade_available, bootcount.
type outcome struct{ part, upgrade, bootcount string }

// decide is the reference rule: what the boot script must do with the
// environment e (as the agent and libubootenv read it): Mender's
// bootcount/bootlimit semantics with U-Boot's hexadecimal setexpr.
func decide(e map[string]string) (outcome, bool) {
	part := e["mender_boot_part"]
	if part != "3" {
		part = "2"
	}
	if e["upgrade_available"] != "1" {
		return outcome{part, def(e["upgrade_available"], "0"), def(e["bootcount"], "0")}, false
	}
	bc, _ := strconv.ParseUint(def(e["bootcount"], "0"), 16, 32)
	limit, _ := strconv.ParseUint(def(e["bootlimit"], "1"), 16, 32)
	bc++
	if bc > limit {
		return outcome{map[string]string{"2": "3", "3": "2"}[part], "0", "0"}, true
	}
	return outcome{part, "1", strconv.FormatUint(bc, 16)}, true
}

func def(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// tornScenario is one write to the environment that a power cut may tear.
type tornScenario struct {
	name   string
	older  map[string]string // the copy about to be overwritten
	before map[string]string // the current copy
	write  map[string]string // the agent's new environment; nil: U-Boot writes
	ok     []outcome         // acceptable boots after the cut
}

var tornScenarios = []tornScenario{
	{"arm", committedB, committedA, armedB, []outcome{{"2", "0", "0"}, {"3", "1", "1"}}},
	{"commit", armedB, trialB, committedB, []outcome{{"3", "0", "1"}, {"2", "0", "0"}}},
	{"rollback", armedB, trialB, rolledA, []outcome{{"2", "0", "0"}}},
	// The engine writes every state twice; the second write puts the same
	// state into the other copy.
	{"arm-second-copy", committedA, armedB, armedB, []outcome{{"3", "1", "1"}}},
	{"commit-second-copy", trialB, committedB, committedB, []outcome{{"3", "0", "1"}}},
	// U-Boot's own writes: the trial count, and the fallback past bootlimit.
	{"uboot-count", committedA, armedB, nil, []outcome{{"3", "1", "1"}, {"2", "0", "0"}}},
	{"uboot-fallback", armedB, trialB, nil, []outcome{{"2", "0", "0"}}},
}

// TestBootScriptTornEnv: every write to either copy, cut at every 512-byte
// boundary, leaves a disk that boots the committed slot or a trial of the
// new one, as decided by the newest valid copy.
func TestBootScriptTornEnv(t *testing.T) {
	rig := newUbootRig(t)
	type tcase struct {
		name  string
		sc    tornScenario
		state envState
	}
	var cases []tcase
	results := map[[32]byte]*bootResult{}
	var order [][32]byte
	names := map[[32]byte]string{}
	add := func(c tcase) {
		cases = append(cases, c)
		k := c.state.key()
		if _, ok := results[k]; !ok {
			results[k] = nil
			order = append(order, k)
			names[k] = c.name
		}
	}
	bootAll := func(phase string) {
		t.Run(phase, func(t *testing.T) {
			for _, k := range order {
				if results[k] != nil {
					continue
				}
				var st envState
				for _, c := range cases {
					if c.state.key() == k {
						st = c.state
						break
					}
				}
				res := &bootResult{}
				results[k] = res
				t.Run(names[k], func(t *testing.T) {
					t.Parallel()
					*res = rig.boot(t, names[k], st)
				})
			}
		})
		if t.Failed() {
			t.FailNow()
		}
	}

	// The written copy is index w; the other holds the current environment.
	// Flags: older f-1, current f, the write f+1 (255 -> 0 in the wrap case).
	type layout struct {
		w    int
		f    byte
		name string
	}
	layouts := []layout{{0, 5, "copy1"}, {1, 7, "copy2"}, {0, 255, "copy1-flagwrap"}}
	intact := func(sc tornScenario, l layout) envState {
		var st envState
		st[l.w] = encode(t, sc.older, l.f-1)
		st[1-l.w] = encode(t, sc.before, l.f)
		return st
	}
	// Phase 1: U-Boot on the intact states of its own writes gives the bytes
	// it writes (they are cases too: the cut after the last byte).
	for _, sc := range tornScenarios {
		if sc.write == nil {
			for _, l := range layouts {
				add(tcase{fmt.Sprintf("%s-%s-intact", sc.name, l.name), sc, intact(sc, l)})
			}
		}
	}
	bootAll("uboot-writes")
	for _, sc := range tornScenarios {
		for _, l := range layouts {
			st := intact(sc, l)
			old := st[l.w]
			var nw []byte
			if sc.write != nil {
				nw = encode(t, sc.write, l.f+1)
			} else {
				res := results[st.key()]
				nw = res.after[l.w]
				if bytes.Equal(nw, old) || !bytes.Equal(res.after[1-l.w], st[1-l.w]) {
					t.Fatalf("%s %s: U-Boot did not write copy %d alone:\n%s", sc.name, l.name, l.w+1, res.console)
				}
				if nw[4] != l.f+1 {
					t.Fatalf("%s %s: U-Boot wrote flag %d, want %d", sc.name, l.name, nw[4], l.f+1)
				}
			}
			for k := 0; k <= envSize; k += 512 {
				torn := st
				torn[l.w] = append(append([]byte{}, nw[:k]...), old[k:]...)
				add(tcase{fmt.Sprintf("%s-%s-cut%05d", sc.name, l.name, k), sc, torn})
			}
			if sc.name == "arm" {
				// The copy being written erased (0xff) or zeroed, not torn.
				for _, fill := range []byte{0xff, 0} {
					torn := st
					torn[l.w] = bytes.Repeat([]byte{fill}, envSize)
					add(tcase{fmt.Sprintf("%s-%s-filled%02x", sc.name, l.name, fill), sc, torn})
				}
			}
		}
	}
	bootAll("torn")
	t.Logf("%d cases, %d distinct disks booted under U-Boot", len(cases), len(order))

	seen := map[string]map[outcome]int{}
	for _, c := range cases {
		res := results[c.state.key()]
		env, err := readState(t, c.state)
		if err != nil {
			t.Errorf("%s: the agent cannot read the torn environment: %v", c.name, err)
			continue
		}
		want, writes := decide(env)
		got := outcome{res.part, res.upgrade, res.bootcount}
		if got != want {
			t.Errorf("%s: U-Boot booted %+v, the newest valid copy says %+v\n%s", c.name, got, want, res.console)
			continue
		}
		allowed := false
		for _, o := range c.sc.ok {
			allowed = allowed || o == got
		}
		if !allowed {
			t.Errorf("%s: booted %+v, neither the committed slot nor a trial of the new one (%+v)", c.name, got, c.sc.ok)
		}
		if wantSlot := map[string]string{"2": "a", "3": "b"}[got.part]; res.slotArg != wantSlot {
			t.Errorf("%s: kernel command line has medagent.slot=%q, want %q", c.name, res.slotArg, wantSlot)
		}
		if d := cmp.Diff(res.env, res.fwenv); d != "" {
			t.Errorf("%s: bootenv and fw_printenv disagree on what U-Boot left (-bootenv +fw_printenv):\n%s", c.name, d)
		}
		if !writes {
			if !bytes.Equal(res.after[0], c.state[0]) || !bytes.Equal(res.after[1], c.state[1]) {
				t.Errorf("%s: no trial, yet U-Boot changed the environment", c.name)
			}
		} else {
			left := map[string]string{}
			for k := range committedA {
				left[k] = res.env[k]
			}
			wantEnv := bootVars(got.part, got.upgrade, got.bootcount)
			if d := cmp.Diff(wantEnv, left); d != "" {
				t.Errorf("%s: environment after the boot (-want +got):\n%s", c.name, d)
			}
		}
		if seen[c.sc.name] == nil {
			seen[c.sc.name] = map[outcome]int{}
		}
		seen[c.sc.name][got]++
	}
	for _, sc := range tornScenarios {
		t.Logf("%-15s %v", sc.name, seen[sc.name])
	}
}
