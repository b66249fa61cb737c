package pinwait

import (
	"time"

	"periph.io/x/conn/v3/gpio"
)

// Active waits until pin reads active, at most timeout. It re-checks the
// level after every edge, so an edge event still queued from data already
// read (the line went inactive again) cannot cause a duplicate read, and
// a level that became active before edge detection was armed is not
// missed.
func Active(pin gpio.PinIn, active gpio.Level, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	left := timeout // the first wait always gets the whole timeout
	for {
		if pin.Read() == active {
			return true
		}
		if !pin.WaitForEdge(left) {
			return pin.Read() == active
		}
		if left = time.Until(deadline); left <= 0 {
			return pin.Read() == active
		}
	}
}
