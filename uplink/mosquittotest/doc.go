// Package mosquittotest starts a real Eclipse Mosquitto broker (Debian
// package mosquitto, /usr/sbin/mosquitto) for tests: mutual TLS on a free
// loopback port, clients identified by their certificate's common name, and
// an ACL that lets a device write only under medagent/v1/<its id>/ and the
// monitor identity read medagent/v1/#.
//
// It reads the PKI layout written by tlsconf/tlstest.WritePKI.
package mosquittotest
