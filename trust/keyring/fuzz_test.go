package keyring

import (
	"os"
	"path/filepath"
	"testing"
)

func FuzzLoad(f *testing.F) {
	k, _ := NewKey("a", ecKey(f).Public())
	dir := f.TempDir()
	r, err := Create(filepath.Join(dir, "seed"), []Key{k}, []Key{k})
	if err != nil {
		f.Fatal(err)
	}
	seed, _ := os.ReadFile(r.path)
	f.Add(seed)
	f.Add([]byte(`{"format":1,"version":1,"command_keys":[],"update_keys":[]}`))
	f.Add([]byte("{"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "k")
		os.WriteFile(p, b, 0o644)
		r, err := Load(p)
		if err != nil {
			return
		}
		if len(r.cmd) == 0 || len(r.upd) == 0 {
			t.Fatal("loaded a store without command or update keys")
		}
	})
}
