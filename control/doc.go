// Package control is the field technician's window into a running agent:
// a small versioned JSON API on a Unix socket, its client, and the bounded
// in-memory log ring that `medagent logs` reads.
//
// Protocol (version 1): the client writes one JSON Request line; the server
// answers with one Response line, or with a stream of Response lines for
// "watch" and "logs" with follow set, until either side closes. The types
// in types.go are the documented, stable schema of every command's data
// (the --json output of the CLI); testdata/schema.txt lists them, and
// TestSchema and the CLI's golden tests pin their field names.
//
// Access: the socket has mode 0660 and the group medtech when that group
// exists, and every connection's peer credentials (SO_PEERCRED) are checked
// again: root, the agent's own uid and members of medtech (primary or
// supplementary group, from /proc/PID/status) are served; everyone else is
// refused with a Response whose Code is "refused". There is no TCP listener.
//
// The server knows nothing about the agent: it calls the function fields of
// a Provider, which package agent fills (agent/control.go). No patient data
// crosses this API except the latest derived vitals of `sensors`, which are
// shown on the bedside screen anyway; logs carry none.
package control
