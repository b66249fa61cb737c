package command

import "time"

// Handle verifies payload and, only if it verifies, runs it with run; it
// returns the result to publish on cmd-result either way. run is the
// agent's dispatch (update engine, reboot, config and keyring, diagnostics).
func (v *Verifier) Handle(now time.Time, payload []byte, run func(Command) error) Result {
	c, err := v.Verify(now, payload)
	var runErr error
	if err == nil {
		runErr = run(c)
	}
	return ResultFor(v.o.DeviceID, now, payload, c, err, runErr)
}
