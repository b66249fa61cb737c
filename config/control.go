package config

// Control configures the technician shell's Unix socket (package control).
type Control struct {
	// Socket is the socket path; empty means $MEDAGENT_SOCKET, else
	// /run/medagent/control.sock. The uplink-only role serves
	// NAME-uplink.sock beside it.
	Socket string `yaml:"socket"`
}
