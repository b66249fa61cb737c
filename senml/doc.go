// Package senml renders telemetry packs as SenML (RFC 8428) in JSON or CBOR,
// and decodes SenML back into resolved records.
//
// Data comes from the spool (a telemetry.Pack plus the per-stream sequence
// number the spool assigned) and goes to the MQTT uplink as a payload.
// Decode is used by the demo subscriber and the tests; it is strict.
//
// # What Encode writes
//
// One SenML pack per telemetry.Pack. The first record carries the base name
// (the device URN, e.g. "urn:dev:sn:MA-0001:") and the base time (the pack
// time in seconds since the Unix epoch, a float: to about 0.25 µs today,
// from a pack time the spool keeps to the nanosecond; TestSubSecondEndToEnd
// pins it). Record names are
// IEEE 11073-10101 reference IDs (MDC_ECG_HEART_RATE, MDC_PULS_OXIM_SAT_O2,
// ...), units are SenML/UCUM ("1/min", "%", "Cel", "mV"). A record's "t" is
// its offset from the pack time and is left out when zero.
//
// # The "seq" extension
//
// The first record also carries a field named "seq": the per-stream sequence
// number (1, 2, 3, ... without gaps) the spool assigned to the pack, so a
// subscriber can detect loss and drop duplicates after a reconnect. It is an
// extension field that a receiver may ignore, so per RFC 8428 §12.2 its name
// has no trailing underscore (it is not must-understand). In CBOR it is the
// text key "seq" (only registered labels have integer keys).
//
// # The "sim" extension
//
// Every record of a pack made from a simulator (telemetry.Pack.Simulated:
// a sensor on bus "sim", in bench builds only) carries "sim": true, so that
// simulated data can never be taken for a patient's, even one record on
// its own. It is absent otherwise. Like "seq" it is not must-understand
// (a receiver may ignore it); in CBOR it is the text key "sim".
//
// # CBOR
//
// CBOR packs use the integer labels of RFC 8428 §6 (bver -1, bn -2, bt -3,
// bu -4, bv -5, n 0, u 1, v 2, vs 3, vb 4, s 5, t 6, ut 7, vd 8). Encode
// writes deterministic CBOR itself (no reflection, no allocation): integral
// numbers that fit in 53 bits as CBOR integers, other numbers as float32 when
// that is exact, else float64. The decoder accepts any CBOR number.
//
// # Decode
//
// Decode resolves base fields into full records (RFC 8428 §4.6) and refuses:
// names with characters outside RFC 8428 §4.5.1 (A-Z a-z 0-9 - : . / _, first
// character a letter or digit), records without exactly one value field,
// non-finite numbers, must-understand fields it does not know (names ending
// in "_"), in CBOR unknown negative labels (base fields have negative
// labels, and one we do not know could change resolution: our policy),
// a bver above 10, a "seq" anywhere but in the first record, and inputs
// above MaxPayload bytes or MaxRecords records. Relative times (below
// 2^28) are not turned into absolute ones.
package senml
