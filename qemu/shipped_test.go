//go:build qemu

package qemu

import (
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"medagent/control"
	"medagent/uplink/mosquittotest"
)

// maxExposure is the highest "systemd-analyze security" exposure any of
// medagent's units may have, measured inside the image (the units' comments
// and configs/doc.go say what each is allowed and why).
const maxExposure = 3.0

// checkShipped asks the hook for the checks of the image as shipped and
// asserts them: the uplink's user can neither reach the technician socket
// nor write what acquire trusts (a technician can); every medagent unit's
// exposure; no private key anywhere, the TPM in the configuration; the
// manual page.
func checkShipped(t *testing.T, ctl *hookServer, logf func(string, ...any)) {
	t.Helper()
	n := ctl.reportsSoFar()
	ctl.ask("checks")
	iso, _ := ctl.wait(t, n, "isolation", stepWait)
	tries := parseTries(iso.Body)
	if len(tries) != 10 {
		t.Fatalf("isolation report has %d commands, want 10:\n%s", len(tries), iso.Body)
	}
	for _, tr := range tries[:9] {
		if tr.Exit == 0 || !strings.Contains(strings.ToLower(tr.Output), "permission denied") {
			t.Errorf("as the uplink's user %q: exit %d, %q; want it refused (permission denied)", tr.Cmd, tr.Exit, strings.TrimSpace(tr.Output))
		}
	}
	if tech := tries[9]; tech.Exit != 0 || !strings.Contains(tech.Output, deviceID) {
		t.Errorf("as a technician %q: exit %d, %q; want the agent's status", tech.Cmd, tech.Exit, strings.TrimSpace(tech.Output))
	}
	logf("isolation: the uplink's user is refused the technician socket, acquire's state, the spool, shared/, /uboot and the slots; a technician gets the status")

	sec, _ := ctl.wait(t, n, "security", stepWait)
	got := map[string]float64{}
	for _, m := range exposureRE.FindAllStringSubmatch(sec.Body, -1) {
		got[m[1]], _ = strconv.ParseFloat(m[2], 64)
	}
	for _, u := range []string{"medagent-acquire.service", "medagent-uplink.service", "medagent-reboot.service", "medagent-datadir.service", "medagent.service"} {
		v, ok := got[u]
		switch {
		case !ok:
			t.Errorf("systemd-analyze security in the image: no exposure for %s:\n%s", u, sec.Body)
		case v > maxExposure:
			t.Errorf("systemd-analyze security in the image: %s exposure %.1f > %.1f:\n%s", u, v, maxExposure, sec.Body)
		}
	}
	logf("systemd-analyze security in the image: %v", got)

	keys, _ := ctl.wait(t, n, "keys", stepWait)
	sections := map[string]string{}
	var cur string
	for _, l := range strings.Split(keys.Body, "\n") {
		if h, ok := strings.CutPrefix(l, "# "); ok {
			cur = h
			continue
		}
		if strings.TrimSpace(l) != "" {
			sections[cur] += l + "\n"
		}
	}
	if s := sections["files with a private key"]; s != "" {
		t.Errorf("private keys in the image or on the data partition:\n%s", s)
	}
	// The TPM-sealed spool and journal keys (spool.key, state.key) are
	// files; the TLS key is not: mqtt.key_file's default is absent.
	for _, f := range strings.Fields(sections["key and certificate files"]) {
		if strings.HasSuffix(f, "/device.key") {
			t.Errorf("device key file in the image: %s", f)
		}
	}
	if !strings.Contains(sections["TPM"], "/dev/tpmrm0") {
		t.Errorf("no /dev/tpmrm0 in the guest:\n%s", sections["TPM"])
	}
	cfg := sections["mqtt and trust configuration"]
	if strings.Contains(cfg, "key_file") || !strings.Contains(cfg, "tpm: /dev/tpmrm0") {
		t.Errorf("configuration: want the TPM and no mqtt.key_file:\n%s", cfg)
	}
	logf("no private key in the image or on the data partition; trust.tpm: /dev/tpmrm0")

	man, _ := ctl.wait(t, n, "man", stepWait)
	if !strings.Contains(man.Body, "MEDAGENT(1)") || !strings.Contains(man.Body, "NAME") {
		t.Errorf("man medagent in the image:\n%s", man.Body)
	}
	logf("man medagent works in the image")

	// configs/systemd/medagent.modules-load: the device groups the acquire
	// unit allows exist before it starts (no USB device is attached).
	majors, _ := ctl.wait(t, n, "majors", stepWait)
	if !strings.HasPrefix(majors.Body, "active\n") {
		t.Errorf("systemd-modules-load.service is not active in the image:\n%s", majors.Body)
	}
	for _, g := range []string{"188 ttyUSB", "166 ttyACM", "89 i2c"} {
		if !regexp1(`(?m)^\s*`+g+`$`, majors.Body) {
			t.Errorf("no %q in the guest's /proc/devices: the acquire unit's DeviceAllow cannot allow it:\n%s", g, majors.Body)
		}
	}
	logf("ttyUSB, ttyACM and i2c majors registered at boot; systemd-modules-load.service active")
}

// offline is the first boot with the clock in the past: the device's
// certificate is not yet valid, so the uplink cannot connect and says why;
// acquisition goes on, vitals are spooled and a fever is alarmed. Once the
// clock is set, everything spooled arrives, each stream from seq 1 on
// without a gap, the fever alarm with its time before the clock was set.
func offline(t *testing.T, ctl *hookServer, mon *mosquittotest.Monitor, id map[string]int, logf func(string, ...any)) {
	t.Helper()
	ours := "medagent/v1/" + deviceID + "/"
	log := ctl.run(t, "uplink-log", stepWait)
	if !strings.Contains(log.Body, "not valid before") {
		t.Fatalf("the uplink's journal does not say the certificate is not yet valid:\n%s", log.Body)
	}
	logf("uplink waits: %s", lastLine(log.Body, "not valid before"))
	// The technician sees why too (the uplink's state, through acquire).
	deadline := time.Now().Add(stepWait)
	for {
		st := parseTries(ctl.run(t, "status", stepWait).Body)
		if len(st) == 1 && st[0].Exit == 0 && strings.Contains(st[0].Output, "uplink waiting") &&
			strings.Contains(oneLine(st[0].Output), "not valid before") {
			logf("medagent status: %s", lastLine(st[0].Output, "uplink waiting"))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("medagent status does not say why the uplink waits within %v: %+v", stepWait, st)
		}
		time.Sleep(5 * time.Second)
	}
	// Only the ECG (the ADS1292R has no kernel stand-in) is simulated, and
	// the technician sees it so.
	sens := parseTries(ctl.run(t, "sensors", stepWait).Body)
	var list []control.Sensor
	if len(sens) == 0 || sens[0].Exit != 0 || json.Unmarshal([]byte(sens[0].Output), &list) != nil {
		t.Fatalf("medagent sensors list --json: %+v", sens)
	}
	simulated := map[string]bool{}
	for _, s := range list {
		simulated[s.Name] = s.Simulated
	}
	if want := map[string]bool{"ecg": true, "spo2": false, "temp": false}; !maps.Equal(simulated, want) {
		t.Errorf("sensors list: simulated %v, want %v", simulated, want)
	}
	if fever := parseTries(ctl.run(t, "fever", stepWait).Body); len(fever) != 1 || fever[0].Exit != 0 {
		t.Fatalf("i2cset of the fever: %+v", fever)
	}
	var alarm control.Alarm
	deadline = time.Now().Add(stepWait)
	for alarm.ID == 0 {
		if time.Now().After(deadline) {
			ctl.run(t, "diag", stepWait)
			t.Fatalf("no temperature alarm within %v of the fever (the guest's state: OUT/reports)", stepWait)
		}
		tr := parseTries(ctl.run(t, "alarms", stepWait).Body)
		var as []control.Alarm
		if len(tr) == 1 && tr[0].Exit == 0 && json.Unmarshal([]byte(tr[0].Output), &as) == nil {
			for _, a := range as {
				if a.Vital == "temp" && a.Kind == "physiological" && a.Condition == "high" && a.Present {
					alarm = a
				}
			}
		}
		if alarm.ID == 0 {
			time.Sleep(5 * time.Second)
		}
	}
	for _, m := range mon.Messages() {
		if strings.HasPrefix(m.Topic, ours) {
			t.Fatalf("the device published with its certificate not yet valid: %s", m.Topic)
		}
	}
	logf("offline: temperature alarm %s (%.2f > %.0f), nothing published", alarm.Priority, alarm.Value, alarm.Limit)

	clock := ctl.run(t, "clock", stepWait)
	set, err := strconv.ParseInt(strings.TrimSpace(lastLine(clock.Body, "")), 10, 64)
	if err != nil || time.Since(time.Unix(set, 0)).Abs() > time.Minute {
		t.Fatalf("setting the guest's clock: %q", clock.Body)
	}
	setAt := time.Unix(set, 0)
	logf("clock set to %s", setAt.UTC().Format(time.RFC3339))
	if normal := parseTries(ctl.run(t, "normal", stepWait).Body); len(normal) != 1 || normal[0].Exit != 0 {
		t.Fatalf("i2cset back to normal: %+v", normal)
	}

	// Everything spooled while offline arrives: the raised alarm, and every
	// stream's telemetry from seq 1, before and after the clock was set.
	mon.WaitFor(t, stepWait, "the offline fever alarm, the uplink_waiting event and telemetry from before and after the clock was set", func(ms []mosquittotest.Message) bool {
		alarmed, waited := false, false
		for _, m := range ms {
			alarmed = alarmed || m.Topic == ours+"alarms/temp"
			waited = waited || (m.Topic == ours+"events/uplink" && strings.Contains(string(m.Payload), "uplink_waiting"))
		}
		if !waited {
			return false
		}
		for _, s := range []string{"temp", "spo2", "ecg"} {
			ps := packs(t, ms, s)
			if len(ps) == 0 || ps[len(ps)-1].Records[0].At().Before(setAt) {
				return false
			}
		}
		return alarmed
	})
	ms := mon.Messages()
	for _, s := range []string{"temp", "spo2", "ecg"} {
		ps := packs(t, ms, s)
		var seqs []uint64
		for _, p := range ps {
			seqs = append(seqs, p.Seq)
		}
		slices.Sort(seqs)
		seqs = slices.Compact(seqs)
		if seqs[0] != 1 || seqs[len(seqs)-1] != uint64(len(seqs)) {
			t.Errorf("telemetry/%s: seqs %d..%d with %d distinct: the spooled packs did not all arrive", s, seqs[0], seqs[len(seqs)-1], len(seqs))
		}
		first := ps[0].Records[0].At()
		for _, p := range ps {
			if p.Seq == 1 {
				first = p.Records[0].At()
			}
		}
		if !first.Before(setAt.Add(-time.Hour)) {
			t.Errorf("telemetry/%s seq 1 at %s: want a time from before the clock was set (%s)", s, first.UTC(), setAt.UTC())
		}
		logf("telemetry/%s: seq 1..%d arrived, seq 1 stamped %s (clock in the past)", s, len(seqs), first.UTC().Format(time.RFC3339))
	}
	temps := values(packs(t, ms, "temp"), "MDC_TEMP_BODY")
	spo2 := values(packs(t, ms, "spo2"), "MDC_PULS_OXIM_SAT_O2")
	if !near(temps, tempNormal) || !near(temps, tempFever) {
		t.Errorf("temperatures read through i2c-stub %v: want %.1f and %.1f", temps, tempNormal, tempFever)
	}
	if !near(spo2, 96) {
		t.Errorf("SpO2 read through /dev/hvc1 %v: want 96 (the host's oximeter)", spo2)
	}
	logf("temperature through i2c-stub and SpO2 through the guest tty arrived (%d and %d values)", len(temps), len(spo2))
	// Every record of the simulated ECG is marked "sim"; no record of a
	// sensor read through the kernel is.
	for _, s := range []string{"ecg", "temp", "spo2"} {
		marked, all := 0, 0
		for _, p := range packs(t, ms, s) {
			for _, r := range p.Records {
				all++
				if r.Simulated {
					marked++
				}
			}
		}
		if want := map[bool]int{true: all, false: 0}[s == "ecg"]; marked != want || all == 0 {
			t.Errorf("telemetry/%s: %d of %d records marked simulated, want %d", s, marked, all, want)
		}
	}
	logf("SenML: every ECG record marked simulated, no temperature or SpO2 record")

	roles := ctl.run(t, "roles", stepWait)
	for _, r := range []struct{ unit, user, role string }{{"medagent-acquire", "medagent_acq", "acquire"}, {"medagent-uplink", "medagent_up", "uplink"}} {
		uid := id["uid_"+r.user]
		sec := section(roles.Body, "unit "+r.unit+" ")
		if !strings.Contains(sec, "active=active") || !regexp1(`(?m)^Uid:\s+`+strconv.Itoa(uid)+`\s`, sec) ||
			!strings.Contains(sec, "--role "+r.role) {
			t.Errorf("%s: want it active as uid %d with --role %s:\n%s", r.unit, uid, r.role, sec)
		}
	}
	logf("roles: acquire as medagent-acq, uplink as medagent-up")
}

// holdsReboot checks that the installed update waits for its reboot while
// the patient is monitored: the technician sees it pending and the board
// is still on release.
func holdsReboot(t *testing.T, ctl *hookServer, release string, logf func(string, ...any)) {
	t.Helper()
	st := ctl.run(t, "update-status", stepWait)
	if st.Release != release || !strings.Contains(st.Body, "pending") {
		t.Fatalf("update status on release %s: want the reboot pending:\n%s", st.Release, st.Body)
	}
	logf("reboot held: %s", lastLine(st.Body, "pending"))
	// A commit before the new slot has booted is refused: only a trial
	// boot of the installed slot can be committed.
	c := parseTries(ctl.run(t, "commit", stepWait).Body)
	if len(c) != 1 || c[0].Exit == 0 || !strings.Contains(c[0].Output, "has not booted yet") {
		t.Fatalf("a technician's commit before the reboot: %+v; want it refused (has not booted yet)", c)
	}
	logf("commit before the reboot refused: %s", lastLine(c[0].Output, "booted"))
}

// near reports whether one of vs is within 0.01 of want.
func near(vs []float64, want float64) bool {
	for _, v := range vs {
		if v > want-0.01 && v < want+0.01 {
			return true
		}
	}
	return false
}

// section returns the lines of body from the one starting with head up to
// the next "unit " line.
func section(body, head string) string {
	i := strings.Index(body, head)
	if i < 0 {
		return ""
	}
	s := body[i+len(head):]
	if j := strings.Index(s, "\nunit "); j >= 0 {
		s = s[:j]
	}
	return head + s
}

// lastLine returns the last line of s that contains sub.
func lastLine(s, sub string) string {
	ls := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(ls) - 1; i >= 0; i-- {
		if strings.Contains(ls[i], sub) {
			return ls[i]
		}
	}
	return ""
}

func regexp1(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }
