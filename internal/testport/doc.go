// Package testport hands test servers (brokers, cluster nodes) loopback TCP
// ports that no other caller in the same process has been given: the kernel
// may return a port again right after its probe listener closes, and tests
// that start several servers in parallel then bind one port twice.
package testport
