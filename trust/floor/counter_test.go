package floor

import (
	"testing"

	"medagent/trust/internal/swtpmtest"
)

// TestNVCounter: the journal counter is defined at first use, goes up by
// one per Increment and keeps its value across a TPM restart.
func TestNVCounter(t *testing.T) {
	if OpenCounter("off") != nil {
		t.Fatal("a counter without a TPM")
	}
	sim := swtpmtest.Start(t, t.TempDir())
	c := OpenCounter(sim.Path)
	if v, exists, err := c.Read(); err != nil || exists || v != 0 {
		t.Fatalf("Read before the counter exists: %d, exists %v, %v", v, exists, err)
	}
	if _, exists, _ := c.Read(); exists {
		t.Fatal("Read made the counter")
	}
	v0, fresh, err := c.Value()
	if err != nil || !fresh {
		t.Fatalf("first Value: %d, fresh %v, %v", v0, fresh, err)
	}
	if v, fresh, err := c.Value(); err != nil || fresh || v != v0 {
		t.Fatalf("second Value: %d (want %d), fresh %v, %v", v, v0, fresh, err)
	}
	for i := uint64(1); i <= 3; i++ {
		if v, err := c.Increment(); err != nil || v != v0+i {
			t.Fatalf("Increment %d: %d, %v; want %d", i, v, err, v0+i)
		}
	}
	if v, exists, err := c.Read(); err != nil || !exists || v != v0+3 {
		t.Fatalf("Read: %d, exists %v, %v; want %d", v, exists, err, v0+3)
	}
	sim.Stop()
	sim2 := swtpmtest.Start(t, sim.StateDir)
	if v, fresh, err := OpenCounter(sim2.Path).Value(); err != nil || fresh || v != v0+3 {
		t.Fatalf("after TPM restart: %d, fresh %v, %v; want %d", v, fresh, err, v0+3)
	}
}

// TestKeyringFloor: the keyring's version floor starts empty, is only ever
// raised and survives a TPM restart.
func TestKeyringFloor(t *testing.T) {
	if OpenKeyringFloor("off") != nil {
		t.Fatal("a keyring floor without a TPM")
	}
	sim := swtpmtest.Start(t, t.TempDir())
	k := OpenKeyringFloor(sim.Path)
	if v, ok, err := k.Version(); ok || err != nil || v != 0 {
		t.Fatalf("new: %d %v %v", v, ok, err)
	}
	for _, v := range []uint64{1, 5, 3} {
		if err := k.Raise(v); err != nil {
			t.Fatalf("raise %d: %v", v, err)
		}
	}
	if v, ok, err := k.Version(); !ok || err != nil || v != 5 {
		t.Fatalf("after 1, 5, 3: %d %v %v, want 5", v, ok, err)
	}
	sim.Stop()
	sim2 := swtpmtest.Start(t, sim.StateDir)
	if v, ok, err := OpenKeyringFloor(sim2.Path).Version(); !ok || err != nil || v != 5 {
		t.Fatalf("after TPM restart: %d %v %v", v, ok, err)
	}
}
