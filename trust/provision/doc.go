// Package provision is the factory step of the chain of trust: the device
// makes a CSR with its own key (trust/identity), the factory CA signs it,
// and Install checks the returned chain and writes it durably.
//
// # The manufacturer PKI
//
//	manufacturer root (offline; IsCA, pathlen 1; keyCertSign, cRLSign)
//	 └─ factory or subcontractor intermediate (IsCA, pathlen 0,
//	    critical name constraints: permitted DNS domain, e.g.
//	    devices.medagent.example)
//	     └─ device certificate: subject CN = serialNumber = device serial,
//	        one DNS SAN <lower(serial)>.<domain>, keyUsage digitalSignature,
//	        extKeyUsage clientAuth, the device's own public key
//
// pkitest scripts exactly this for tests.
//
// # What Install accepts
//
// Only a chain that verifies to the configured root (never the system
// pool) through exactly one intermediate, where
//   - the intermediate has path length 0 and at least one permitted DNS
//     name constraint (an unconstrained factory CA is refused);
//   - the leaf is valid at Now, is not a CA, has keyUsage
//     digitalSignature and an explicit extKeyUsage clientAuth, and holds
//     the device's public key;
//   - no CRL lists the intermediate (a CRL signed by the root: revoking a
//     factory invalidates all its devices) or the leaf (a CRL signed by the
//     intermediate). A CRL signed by anyone else, or past its NextUpdate,
//     is an error: fail closed.
//
// # The serial policy
//
// Go's verifier applies name constraints to SANs only, never to the
// subject CN. So Install also requires that CN and the subject
// serialNumber attribute both equal the serial (Options.Serial when set),
// that the serial matches [A-Za-z0-9-]{1,64}, and that the only DNS SAN is
// <lower(serial)>.<domain> for a domain the intermediate permits. The
// factory's name constraint (checked by Go) thus bounds the SAN, and the
// SAN pins the CN: a factory cannot issue a name outside its domain.
//
// Each refusal wraps one sentinel (ErrUntrusted, ErrExpired,
// ErrNotYetValid, ErrRevoked, ErrKeyMismatch, ErrUsage, ErrPolicy,
// ErrStaleCRL).
//
// The chain is written temp, fsync, rename, fsync dir, so a crash leaves
// the old or the new certificate.
package provision
