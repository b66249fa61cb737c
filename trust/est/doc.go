// Package est renews the device certificate with EST (RFC 7030)
// simplereenroll over mutual TLS, authenticated by the current
// certificate and the device key (trust/identity).
//
// Request: POST {URL}/.well-known/est/simplereenroll, Content-Type
// application/pkcs10, Content-Transfer-Encoding base64, body the base64
// DER PKCS#10 CSR (trust/provision.CSR: subject CN and serialNumber = the
// device serial, signed by the same device key: the key does not change).
//
// Response 200: Content-Type application/pkcs7-mime (smime-type
// certs-only), base64 of a degenerate CMS SignedData (RFC 5652 section 5,
// no signers) whose certificates field holds the new certificate and
// possibly intermediates. It is parsed here with encoding/asn1 (no cgo,
// no third-party code). Response 202 with Retry-After means try later.
// Bodies are read up to 1 MiB.
//
// The new certificate goes through the same checks as at the factory
// (trust/provision.Check: manufacturer root, factory CA policy, serial,
// clientAuth, device key, validity) and is installed durably; anything
// else keeps the old certificate.
//
// Renewer.Run checks the certificate file and renews when it expires
// within Window (default 30 days). A failure keeps the old certificate and
// retries after a capped exponential backoff (MinBackoff doubling to
// MaxBackoff); Status reports the last outcome for the agent's health
// output. Run returns nil when its context is cancelled.
package est
