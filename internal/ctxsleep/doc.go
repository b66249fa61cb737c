// Package ctxsleep sleeps until a duration passes or a context ends: the
// wait between retries of a component's Run loop (reconnects, renewals),
// which must end at once when the agent stops.
package ctxsleep
