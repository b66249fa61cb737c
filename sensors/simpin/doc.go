// Package simpin is a simulated GPIO input line driven by a register-level
// chip simulator (data-ready and interrupt outputs), so drivers that wait
// for an edge run unchanged against simulated chips.
//
// The chip simulator supplies the level and the edge wait; with a manual
// simulated clock a wait advances that clock to the next edge, which keeps
// tests deterministic and fast.
package simpin
