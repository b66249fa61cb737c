// Package uplinktest provides a hand-written in-memory spool reader (the
// Next/Ack/Rewind source the uplink consumes) for tests and benchmarks,
// instrumented to check the uplink's promises: records are acked only once
// and only after delivery, the number delivered but not yet acked stays
// within the window, and Rewind redelivers exactly the unacked ones.
package uplinktest
