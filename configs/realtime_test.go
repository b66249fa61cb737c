package configs

import (
	"strconv"
	"testing"

	"medagent/config"
)

// TestRealtimeRights: every unit that runs acquisition (the acquire role,
// and role all for boards that do not split the roles) may run its
// sampling threads at the default SCHED_FIFO priority with the memory
// locked, so the agent's default configuration gets the real-time path
// it asks for; the uplink unit may not, and is capped.
func TestRealtimeRights(t *testing.T) {
	rt := config.Default().Realtime
	for _, f := range []string{"systemd/medagent-acquire.service", "systemd/medagent.service"} {
		u := parseUnit(t, f)
		if v := u.get("Service", "RestrictRealtime"); v != "no" {
			t.Errorf("%s: RestrictRealtime=%q: the sampling threads could not get SCHED_FIFO (want no)", f, v)
		}
		if p, err := strconv.Atoi(u.get("Service", "LimitRTPRIO")); err != nil || p < rt.Priority {
			t.Errorf("%s: LimitRTPRIO=%q: below realtime.priority %d (the default)", f, u.get("Service", "LimitRTPRIO"), rt.Priority)
		}
		if v := u.get("Service", "LimitMEMLOCK"); rt.LockMemory && v != "infinity" {
			t.Errorf("%s: LimitMEMLOCK=%q: mlockall of the whole process needs infinity", f, v)
		}
	}
	u := parseUnit(t, "systemd/medagent-uplink.service")
	if v := u.get("Service", "RestrictRealtime"); v != "yes" {
		t.Errorf("uplink: RestrictRealtime=%q, want yes", v)
	}
	if u.get("Service", "CPUQuota") == "" || u.get("Service", "CPUWeight") == "" {
		t.Errorf("uplink: no CPUQuota or CPUWeight: it could take the CPU from acquisition")
	}
}
