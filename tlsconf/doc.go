// Package tlsconf builds the device's mutual-TLS client configuration for
// the MQTT uplink from files on the device: the broker CA (pinned: the only
// roots trusted, never the system pool), the device certificate, and its
// private key from a file or from a crypto.Signer (for a key held in a TPM).
//
// It checks at load what would otherwise fail later and obscurely, naming
// the file and the fix: missing or unreadable files, files that are not PEM,
// a key that does not match the certificate, a certificate outside its
// validity period or without the clientAuth extended key usage, and a key
// file that group or others can read.
//
// There is deliberately no option to turn off verification of the broker's
// certificate; a test greps the repository to keep it that way.
package tlsconf
