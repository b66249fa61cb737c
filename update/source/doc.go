// Package source opens what an update is installed from, safely for a
// process that opens it with the agent's rights on a technician's or a
// server's word.
//
// OpenFile accepts a regular file inside one allowed directory only: the
// name is resolved beneath the directory (os.Root: no "..", no symlink that
// leaves it), the final component is opened with O_NOFOLLOW|O_NONBLOCK (a
// FIFO without a writer or a device never blocks the caller) and checked
// with fstat before a byte is read. Anything else is refused at once with
// the reason.
//
// HTTPClient is the client for https downloads: trust anchors from the
// configured CA file only (never the system pool), TLS 1.2 or newer, no
// proxy from the environment, bounded header size and timeouts, and
// redirects only to https on the same host (or a host explicitly allowed).
// The size bound of a download and its resumption across restarts are the
// update engine's (engine.Fetch).
package source
