package cli

import (
	"strings"
	"testing"
	"time"

	"medagent/control"
)

// TestStatusFleetLine: `medagent status` says when the Mender server has
// not accepted the device yet (and that an operator must), and which
// deployment is under way once it has.
func TestStatusFleetLine(t *testing.T) {
	now := time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC)
	cases := []struct {
		fleet control.Fleet
		want  []string
	}{
		{control.Fleet{Server: "https://mender.example.net", Auth: "pending acceptance", AuthSince: now.Add(-time.Minute), AuthTries: 4,
			NextTry: now.Add(20 * time.Second), LastError: "mender: device not accepted by the server (yet)"},
			[]string{"fleet", "https://mender.example.net", "pending acceptance since 13:59:00 (4 requests)", "an operator must accept the device", "next try 14:00:20"}},
		{control.Fleet{Server: "https://mender.example.net", Auth: "accepted", Deployment: "dep-7", Artifact: "release-2", DeployState: "pause_before_rebooting"},
			[]string{"accepted, deployment dep-7 of release-2: pause_before_rebooting"}},
	}
	for _, c := range cases {
		var b strings.Builder
		f := c.fleet
		printStatus(&b, control.Status{DeviceID: "MA-1", Fleet: &f}, now)
		flat := strings.Join(strings.Fields(b.String()), " ") // lines wrap at 80 columns
		for _, w := range c.want {
			if !strings.Contains(flat, w) {
				t.Errorf("status lacks %q:\n%s", w, b.String())
			}
		}
	}
	var b strings.Builder
	printStatus(&b, control.Status{DeviceID: "MA-1"}, now)
	if strings.Contains(b.String(), "fleet") {
		t.Errorf("fleet line without a Mender client:\n%s", b.String())
	}
}
