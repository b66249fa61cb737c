// Package alarm is the alarm manager of medagent: a pure state machine that
// turns vital-sign values and technical conditions into alarm transitions
// following the alarm-system concepts of IEC 60601-1-8.
//
// Inputs come from the edge stage: heart rate from edge/ecg, pulse rate and
// SpO2 from edge/ppg, temperature from edge/temp (Manager.Update), and the
// sensors' technical conditions — lead off, probe off, sensor fault, poor
// signal, no data (Manager.Technical). Time is always passed in; the
// package never reads a clock, starts a goroutine or logs. Outputs are
// Transitions (raised, cleared, acknowledged), which the agent publishes
// with priority in the uplink, and the list of active alarms (Active).
//
// Concepts, as the standard names them:
//
//   - Priority: high, medium or low, fixed per alarm condition by
//     configuration (Config). Defaults for adults: heart and pulse rate
//     below 50 or above 120 /min medium, below 40 or above 150 /min high;
//     SpO2 below 90 % medium, below 85 % high; temperature below 35 or above
//     39 °C medium (both develop over minutes: a "delayed" onset of harm,
//     but unattended hypo- or hyperthermia is serious, so medium rather
//     than low; set temp.priority to low to change it).
//   - Alarm condition delay (onset_delay): a limit must be crossed
//     continuously for this long before the alarm is raised, so brief
//     excursions and artefacts raise nothing. The values are averages
//     (12 R-R intervals, 8 pulses) that cross a limit some beats after the
//     patient did; beat-to-beat values given to Instant move the start of
//     the delay back to the first beat of the run beyond the limit (at most
//     MaxBackdate), so the averaging does not add to the delay. Defaults:
//     HR and pulse rate 5 s, SpO2 and temperature 10 s.
//   - Hysteresis and clear_delay: a raised alarm clears only when the value
//     is back inside the limit by the hysteresis margin, continuously for
//     clear_delay, so a value hovering at the limit does not chatter
//     (defaults: HR and pulse rate 5 /min for 20 s, SpO2 1 % for 5 s,
//     temperature 0.2 °C for 10 s).
//   - Rhythm conditions of the ECG (Manager.Rhythm): asystole, always on
//     and of high priority, and pause (medium). The ECG stage decides them
//     (no QRS complex for asystole.delay on a flat connected lead; an R-R
//     interval over pause.limit), so they are raised at once.
//   - Suspension (Manager.Hold): while the ECG is noise (the technical
//     alarm noise, "ECG noise / artefact") or in asystole, or the PPG has
//     an artefact (poor_signal), the value is withheld: its limit alarms
//     neither start nor clear and no no_data is raised on top.
//   - Latching: a latching alarm stays active after its condition ends
//     until it is acknowledged (Manager.Ack). Acknowledging a non-latched or
//     still-present alarm marks it acknowledged (the agent silences it) and
//     it clears when its condition ends.
//   - Escalation: each vital has a normal (low/high) and a critical
//     (critical_low/critical_high) limit pair; they are separate alarm
//     conditions, so SpO2 83 % has both the medium and the high alarm
//     active, and going back to 88 % clears the high one only.
//   - Technical alarms are a separate Kind with their own priorities and
//     delays and never mix with physiological ones. A vital that had valid
//     values and then has none for stale_after raises the technical alarm
//     no_data with the vital as source.
//
// While a vital's values are invalid (or not finite), its pending alarms are
// cancelled and its active alarms are held: missing data never clears an
// alarm, it raises no_data instead.
//
// Alarm IDs count from 1 for each Manager; an agent that restarts should
// namespace them (for example with a boot id) when publishing.
package alarm
