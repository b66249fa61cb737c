package update

import (
	"strings"
	"testing"
)

func TestRebootFunc(t *testing.T) {
	if RebootFunc(nil) != nil {
		t.Fatal("a reboot for no command")
	}
	if err := RebootFunc([]string{"true"})(t.Context()); err != nil {
		t.Fatal(err)
	}
	err := RebootFunc([]string{"sh", "-c", "echo no permission >&2; exit 3"})(t.Context())
	if err == nil || !strings.Contains(err.Error(), "no permission") || !strings.Contains(err.Error(), `"sh -c`) {
		t.Fatalf("failure: %v", err)
	}
}
