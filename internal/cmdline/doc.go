// Package cmdline is medagent's command tree: every command and subcommand
// is a Command node with its flags, arguments, help text and examples, so
// that -h, --help, "help COMMAND", the manual page and the README's command
// list all come from one definition. It parses flags with the standard
// library's flag package (flags may follow positional arguments) and maps
// errors to the documented exit codes: 0 ok, 1 failed, 2 usage, 3 the agent
// is not running.
package cmdline
