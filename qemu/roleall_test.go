//go:build qemu

package qemu

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"medagent/uplink/mosquittotest"
)

// roleAll starts medagent.service, both roles in one process as a small
// board runs them, in place of the split units, and checks it from
// outside: it runs as the acquire role's user with --role all, the split
// units are stopped, the uplink role's directories are handed to it, a
// technician reaches it, and vitals sampled after the switch arrive at the
// broker (acquisition, the spool and the uplink in that one process).
func roleAll(t *testing.T, ctl *hookServer, mon *mosquittotest.Monitor, id map[string]int, logf func(string, ...any)) {
	t.Helper()
	rep := ctl.run(t, "role-all", stepWait)
	switchAt := rep.At
	tries := parseTries(rep.Body)
	if len(tries) != 2 || tries[0].Exit != 0 {
		log := ctl.run(t, "role-all-log", stepWait)
		t.Fatalf("systemctl start medagent.service: %+v\nits journal:\n%s", tries, log.Body)
	}
	all := section(rep.Body, "unit medagent ")
	uid := id["uid_medagent_acq"]
	if !strings.Contains(all, "active=active") || !regexp1(`(?m)^Uid:\s+`+strconv.Itoa(uid)+`\s`, all) || !strings.Contains(all, "--role all") {
		t.Fatalf("medagent.service: want it active as uid %d (medagent-acq) with --role all:\n%s", uid, rep.Body)
	}
	for _, u := range []string{"medagent-acquire", "medagent-uplink"} {
		if s := section(rep.Body, "unit "+u+" "); !strings.Contains(s, "active=inactive") {
			t.Errorf("%s beside medagent.service: want it stopped:\n%s", u, s)
		}
	}
	for _, d := range []string{"/var/lib/medagent/uplink", "/var/lib/medagent/handoff"} {
		if !regexp.MustCompile(`(?m)^d\S+\s+\d+\s+medagent-acq\s+medagent-acq\s.*` + regexp.QuoteMeta(d) + `$`).MatchString(rep.Body) {
			t.Errorf("%s: want it handed to medagent-acq (StateDirectory=):\n%s", d, rep.Body)
		}
	}
	if tech := tries[1]; tech.Exit != 0 || !strings.Contains(tech.Output, deviceID) {
		t.Errorf("a technician's %q under role all: exit %d, %q; want the agent's status", tech.Cmd, tech.Exit, strings.TrimSpace(tech.Output))
	}
	logf("role all: medagent.service active as medagent-acq, split units stopped, uplink/ and handoff/ handed over, technician status works")

	// Vitals sampled after the switch arrive: each stream has a record
	// stamped after the split units stopped (the guest's clock is the
	// host's since the offline step; a minute's slack).
	mon.WaitFor(t, stepWait, "telemetry sampled by the role-all process", func(ms []mosquittotest.Message) bool {
		for _, s := range []string{"temp", "spo2", "ecg"} {
			fresh := false
			for _, p := range packs(t, ms, s) {
				fresh = fresh || p.Records[len(p.Records)-1].At().After(switchAt.Add(time.Minute))
			}
			if !fresh {
				return false
			}
		}
		return true
	})
	logf("role all: temp, SpO2 and ECG sampled after the switch arrived at the broker")
}
