// Package spool is medagent's crash-safe, bounded store between acquisition
// and uplink. (Design notes and the benchmark that chose it: see below once
// written.)
package spool
