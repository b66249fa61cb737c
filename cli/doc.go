// Package cli is medagent's command line: it parses arguments, dispatches
// to subcommands and maps their errors to documented exit codes.
//
// Exit codes: 0 ok, 1 a check or command failed, 2 usage error, 3 the agent
// is not running (for commands that need it).
package cli
