//go:build long

package uplink_test

import (
	"testing"
	"time"
)

// TestBrokerOutageLong is TestBrokerOutage with a 30 s outage and the real spool (go test -tags long).
func TestBrokerOutageLong(t *testing.T) { testOutage(t, 30*time.Second, true) }
