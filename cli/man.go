package cli

import (
	"medagent/internal/cmdline"
)

// manDate is the date of the manual page's definitions. Change it when the
// command tree changes (the golden test of docs/medagent.1 reminds you).
const manDate = "2026-12-03"

// manPage is what medagent(1) says beyond the command tree.
func manPage() cmdline.Man {
	return cmdline.Man{
		Date:   manDate,
		Source: "medagent",
		Sections: []cmdline.ManSection{
			{Title: "Exit status", Text: `0 ok; 1 a check or command failed; 2 usage error; 3 the agent is not
running (or refuses this user).`},
			{Title: "Environment", Text: `MEDAGENT_SOCKET: the control socket of the technician commands when
--socket is not given.`},
			{Title: "Files", Text: `
 /etc/medagent/medagent.yaml         configuration (every key: medagent.example.yaml)
 /run/medagent/control.sock          technician socket of the acquire role (group medtech)
 /var/lib/medagent/spool             the spool: alarms, events and telemetry waiting to be sent
 /etc/fw_env.config                  where the U-Boot environment is (two copies)`},
			{Title: "See also", Text: "fw_printenv(8), mender-artifact(1), systemd.service(5)"},
		},
	}
}
