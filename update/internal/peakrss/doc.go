// Package peakrss measures the peak resident set size of a child process
// for memory tests and benchmarks. The child prints its own VmHWM from
// /proc/self/status at its end (Report); the parent finds it in the
// child's output (Parse).
//
// The rusage of the child (ru_maxrss) is not used: os/exec starts children
// with vfork semantics and Linux keeps the high-water mark across execve,
// so ru_maxrss reports the parent's RSS when that is larger.
package peakrss
