// Package watchdog keeps two watchdogs fed while the agent is healthy: the
// systemd service watchdog (sd_notify READY=1 and WATCHDOG=1 on the
// datagram socket named by NOTIFY_SOCKET, at half of WATCHDOG_USEC, see
// sd_notify(3) and systemd.service(5) WatchdogSec=) and, when configured,
// the kernel's hardware watchdog device (/dev/watchdog: any write pets it;
// writing 'V' before close disarms it, see the Linux kernel's
// Documentation/watchdog/watchdog-api.rst).
//
// Both are fed only while Options.Healthy returns nil, so a stuck agent is
// restarted by systemd or reset by the hardware. On a clean stop with a
// healthy agent the device gets the magic 'V' and systemd gets STOPPING=1;
// on a stop while unhealthy the device is closed armed, so the board still
// resets if it never comes back.
//
// Data comes from the process environment (NOTIFY_SOCKET, WATCHDOG_USEC,
// WATCHDOG_PID) and the health function; it goes to the notify socket and
// the watchdog device.
package watchdog
