package control

import "context"

// Provider is what the agent exposes to the control socket: a few function
// fields rather than a wide interface, so that a role that lacks a part
// leaves its field nil and the server answers "unavailable". Every function
// must be safe to call from any goroutine.
type Provider struct {
	Status   func(ctx context.Context) Status
	Sensors  func(ctx context.Context) []Sensor
	Alarms   func(ctx context.Context) []Alarm
	Ack      func(ctx context.Context, id uint64) error
	Spool    func(ctx context.Context) (SpoolStats, error)
	Certs    func(ctx context.Context) Certs
	Diag     func(ctx context.Context) Diag
	Selftest func(ctx context.Context) Selftest
	// Update runs an update operation (see UpdateOps) and returns the
	// update engine's status (engine.Status) after it.
	Update func(ctx context.Context, op, arg string) (any, error)
	// Audit checks the security audit trail and returns its newest entries.
	Audit func(ctx context.Context) (Audit, error)
}
