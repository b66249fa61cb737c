#!/bin/sh
# QEMU bench only (medagent-bench-hook.service, every boot, as root, after
# both roles): reports the boot to the test's control server on the host
# (CTL in bench.env) and runs the steps the test asks for, one at a time,
# posting each step's output back. Only the steps below exist; what they
# print is what the test asserts. Technician actions run as the bench
# technician "tech" (group medtech), the uplink's as its user medagent-up.
. /data/test/bench.env
export LC_ALL=C
bb=/bin/busybox
release=$(cat /etc/medagent-release)
slot=$(sed -n 's/.*medagent\.slot=\([ab]\).*/\1/p' /proc/cmdline)
say() { echo "BENCH: $*" >/dev/ttyAMA0; }
post() { # post STEP FILE
	$bb wget -q -O /dev/null --post-file "$2" "$CTL/report?step=$1&release=$release&slot=$slot" ||
		say "report $1 not delivered"
}
as() { # as USER CMD...
	u=$1
	shift
	setpriv --reuid="$u" --regid="$u" --init-groups "$@"
}
try() { # try CMD...: the command, its output, its exit status
	echo "\$ $*"
	"$@" 2>&1
	echo "exit $?"
}

roles() {
	for u in medagent-acquire medagent-uplink medagent; do
		pid=$(systemctl show -p MainPID --value "$u.service")
		echo "unit $u active=$(systemctl is-active "$u.service") pid=$pid"
		[ "$pid" != 0 ] || continue
		grep -E '^(Uid|Gid|Groups):' "/proc/$pid/status"
		echo "cmdline $(tr '\0' ' ' <"/proc/$pid/cmdline")"
	done
}

# What the uplink's user may not do (file permissions and groups, as any
# process of that user meets them), and that a technician can.
isolation() {
	try as medagent-up medagent status --socket /run/medagent/control.sock
	try as medagent-up medagent update reboot --socket /run/medagent/control.sock
	try as medagent-up touch /var/lib/medagent/acquire/written-by-uplink
	try as medagent-up sh -c 'echo x >>/var/lib/medagent/acquire/keyring.json'
	try as medagent-up touch /var/lib/medagent/spool/written-by-uplink
	try as medagent-up touch /var/lib/medagent/shared/written-by-uplink
	try as medagent-up sh -c 'echo x >>/var/lib/medagent/shared/spool.key'
	try as medagent-up touch /uboot/written-by-uplink
	try as medagent-up dd if=/dev/zero of=/dev/vda2 bs=512 count=1
	try as tech medagent status
}

keys() {
	echo "# files with a private key"
	grep -rlsI "PRIVATE KEY" /etc /var/lib/medagent /data /uboot /root /home --exclude-dir=test
	echo "# key and certificate files"
	find / /data -xdev -type f \( -name '*.key' -o -name '*.pem' \) 2>/dev/null
	echo "# TPM"
	ls -l /dev/tpm*
	echo "# mqtt and trust configuration"
	$bb awk '/^[a-z]/ { p = /^(mqtt|trust):/ } p && !/^ *#/' /etc/medagent/medagent.yaml /var/lib/medagent/provision/medagent.yaml
}

step() { # step NAME: run it, post its output
	case $1 in
	checks)
		isolation >/tmp/step.out 2>&1
		post isolation /tmp/step.out
		systemd-analyze security --no-pager medagent-acquire.service medagent-uplink.service medagent-reboot.service \
			medagent-datadir.service medagent.service >/tmp/step.out 2>&1
		post security /tmp/step.out
		keys >/tmp/step.out 2>&1
		post keys /tmp/step.out
		(MANPAGER=cat man medagent | head -20) >/tmp/step.out 2>&1
		post man /tmp/step.out
		(systemctl is-active systemd-modules-load.service; cat /proc/devices) >/tmp/step.out 2>&1
		post majors /tmp/step.out
		return
		;;
	roles) roles ;;
	uplink-log) journalctl -u medagent-uplink.service --no-pager -o cat -n 40 ;;
	acquire-log) journalctl -u medagent-acquire.service --no-pager -o cat -n 60 ;;
	alarms) try as tech medagent alarms list --json ;;
	status) try as tech medagent status ;;
	certs) try as tech medagent certs show --json ;;
	update-status) try as tech medagent update status ;;
	commit) try as tech medagent update commit ;;
	fever) try sh -c "echo $TEMP_FEVER >/run/medagent-bench/temp" ;;
	normal) try sh -c "echo $TEMP_NORMAL >/run/medagent-bench/temp" ;;
	sensors)
		try as tech medagent sensors list --json
		try as tech medagent status --json
		;;
	diag)
		cat /proc/loadavg
		top -b -n 1 | head -20
		ps -eo user,pid,args | grep -v ' \[' 
		echo "temp word $(cat /run/medagent-bench/temp)"
		try $bb i2cget -y 0 0x48 0x00 w
		try $bb i2cget -y 0 0x48 0x01 w
		try as tech medagent sensors list --json
		try as tech medagent logs --since 5m
		ls -ld /run/lock /var/lock /var/run
		;;
	clock)
		# No RTC battery on the bench board: the clock starts in the past
		# until someone sets it (as NTP or a technician would).
		t=$($bb wget -q -O- "$CTL/time") && date -u -s "@$t" && $bb hwclock -w -u
		date -u +%s
		;;
	release) try as tech medagent update reboot ;;
	role-all)
		# A board that runs one process: medagent.service instead of the
		# split units (it conflicts with them, so they stop).
		try systemctl start medagent.service
		roles
		ls -ld /var/lib/medagent/uplink /var/lib/medagent/handoff
		try as tech medagent status
		;;
	role-all-log) journalctl -u medagent.service --no-pager -o cat -n 60 ;;
	damage-env)
		# Damage the current copy of the boot environment (the newer by
		# flag, as the boot script orders them), then reboot: the board
		# must boot from the other copy, which holds the same state.
		f1=$(od -An -tu1 -j4 -N1 /uboot/uboot.env | tr -d ' ')
		f2=$(od -An -tu1 -j4 -N1 /uboot/uboot-redund.env | tr -d ' ')
		cur=/uboot/uboot.env
		if [ "$f1" = 255 ] && [ "$f2" = 0 ]; then
			cur=/uboot/uboot-redund.env
		elif ! { [ "$f2" = 255 ] && [ "$f1" = 0 ]; } && [ "$f2" -gt "$f1" ]; then
			cur=/uboot/uboot-redund.env
		fi
		printf garbage | dd of=$cur bs=1 seek=100 conv=notrunc 2>&1
		sync
		echo "damaged $cur (flags $f1 $f2)"
		;;
	poweroff) echo "powering off" ;;
	*) echo "unknown step $1" ;;
	esac >/tmp/step.out 2>&1
	post "$1" /tmp/step.out
	case $1 in
	poweroff) systemctl poweroff ;;
	damage-env) systemctl reboot ;;
	esac
}

say "release $release on slot $slot: hook up"
{
	echo "release $release slot $slot"
	date -u +%s
	systemctl is-active medagent-acquire.service medagent-uplink.service
} >/tmp/boot.out 2>&1
post boot /tmp/boot.out
while :; do
	s=$($bb wget -q -O- "$CTL/step?release=$release&slot=$slot" 2>/dev/null) || {
		sleep 2
		continue
	}
	[ -n "$s" ] && step "$s"
done
