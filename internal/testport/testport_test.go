package testport

import (
	"sync"
	"testing"
)

func TestFreeNeverRepeats(t *testing.T) {
	const workers, each = 8, 200
	var mu sync.Mutex
	seen := map[int]bool{}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				p, err := Free()
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[p] {
					t.Errorf("port %d given twice", p)
				}
				seen[p] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != workers*each {
		t.Errorf("%d ports for %d calls", len(seen), workers*each)
	}
}
