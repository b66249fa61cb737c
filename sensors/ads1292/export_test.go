package ads1292

import "time"

// SetSleep replaces the sleep seam for a test and returns a restore func.
func SetSleep(f func(time.Duration)) func() {
	old := doSleep
	doSleep = f
	return func() { doSleep = old }
}
