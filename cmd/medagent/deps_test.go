package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps pins what the device binary links: no dev-only broker, no test
// helpers.
func TestDeps(t *testing.T) {
	for _, goarch := range []string{"amd64", "arm64", "arm"} {
		cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} ", ".")
		cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go list (%s): %v\n%s", goarch, err, out)
		}
		deps := string(out)
		for _, bad := range []string{
			"github.com/mochi-mqtt/server", // the demo's broker
			"medagent/tlsconf/tlstest",     // test PKI
			"medagent/uplink/mosquittotest",
			"medagent/devtools",
			"\ntesting ",
			"net/http/httptest",
		} {
			if strings.Contains(deps, bad) {
				t.Errorf("%s: the device binary links %q", goarch, strings.TrimSpace(bad))
			}
		}
		if !strings.Contains(deps, "github.com/eclipse/paho.mqtt.golang") {
			t.Errorf("%s: the device binary does not link the MQTT client; the pin list is stale", goarch)
		}
	}
}
