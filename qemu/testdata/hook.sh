#!/bin/sh
# Test driver run by the bench rootfs init from the data partition (the image
# itself stays generic). $1 is the running partition. It checks the agent's
# health, resumes (commits) or resets a trial boot, then installs the next
# artifact of /data/test/queue with medagent's own update engine.
part=$1
J=/data/medagent/update.journal
F="--journal $J --slot-a /dev/vda2 --slot-b /dev/vda3 --key /data/test/artifact.pub --device-type qemu-medagent --reboot-cmd /data/test/reboot.sh --scripts-dir /data/test/scripts"
say() { echo "HOOK: $*" > /dev/console; }
sleep "${HOOK_SETTLE:-20}"
if [ -n "$(pidof medagent)" ]; then healthy=yes; else healthy=no; fi
state=$(medagent update status --journal $J | sed -n 's/^state: *//p')
say "partition $part healthy=$healthy state=$state"
case $state in
idle|committed|rolled-back|failed|"") ;;
*)
	if [ $healthy = no ]; then
		# A stuck agent would stop petting the watchdog; reset the board
		# without committing and let the boot script count the boot.
		say "unhealthy on trial boot: reset without commit"
		sync
		reboot -f
		exit 0
	fi
	;;
esac
if medagent update resume $F >/tmp/resume.log 2>&1; then
	say "resume ok"
else
	say "resume failed: $(cat /tmp/resume.log)"
fi
medagent update status --journal $J >/dev/console 2>&1
next=$(ls /data/test/queue 2>/dev/null | head -1)
if [ -z "$next" ]; then
	say "queue empty"
	exit 0
fi
mv "/data/test/queue/$next" "/data/test/$next"
sync
say "installing $next"
start=$(date +%s)
if ! medagent update install $F "/data/test/$next" >/dev/console 2>&1; then
	say "install failed after $(($(date +%s) - start)) s"
fi
