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
case $next in
*corrupt-env*)
	# Damage the current copy of the boot environment (the higher flag):
	# the boot script and the agent must carry on with the other copy,
	# which holds the same committed state.
	f1=$(od -An -tu1 -j4 -N1 /uboot/uboot.env | tr -d ' ')
	f2=$(od -An -tu1 -j4 -N1 /uboot/uboot-redund.env | tr -d ' ')
	cur=/uboot/uboot.env
	[ "$f2" -gt "$f1" ] && cur=/uboot/uboot-redund.env
	printf 'garbage' | dd of=$cur bs=1 seek=100 conv=notrunc 2>/dev/null
	sync
	say "corrupted $cur (flags $f1 $f2), rebooting"
	/data/test/reboot.sh
	exit 0
	;;
*split*)
	# Install without the reboot, try to commit before it (refused), then
	# restart the engine (a new process, as after an agent restart while
	# the clinical-use lock held the reboot): it must reboot, not commit.
	say "installing $next (no reboot)"
	if ! medagent update install $F --no-reboot "/data/test/$next" >/dev/console 2>&1; then
		say "install failed"
		exit 0
	fi
	say "installed without reboot"
	if medagent update commit $F >/tmp/commit.log 2>&1; then
		say "commit before the reboot ACCEPTED"
	else
		say "commit before the reboot refused: $(cat /tmp/commit.log)"
	fi
	medagent update status --journal $J >/dev/console 2>&1
	say "agent restart between arming and reboot: resume"
	medagent update resume $F >/dev/console 2>&1
	exit 0
	;;
esac
say "installing $next"
start=$(date +%s)
if ! medagent update install $F "/data/test/$next" >/dev/console 2>&1; then
	say "install failed after $(($(date +%s) - start)) s"
fi
