// Package tlstest makes small X.509 PKIs for tests and for the demo: a CA
// (ECDSA P-256, self-signed) that issues server and client certificates and
// writes them as PEM files, and WritePKI, which lays out a whole development
// PKI (CA, broker, device, monitor) in a directory.
//
// Keys are generated fresh every time and written with mode 0600; nothing
// made here belongs in a repository or on a production device.
package tlstest
