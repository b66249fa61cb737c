// Package nonin reads a Nonin pulse oximeter (OEM III module and
// compatible devices) speaking Nonin serial Data Format #2 at 9600 baud,
// 8 data bits, no parity, 1 stop bit.
//
// Format source: Nonin Medical, "OEM III Module Specifications and
// Technical Information", section "Serial Data Format #2" (the public OEM
// III specification; Nonin does not print a document number we could
// verify, so the section name is the reference). Format #2 sends 75
// frames per second; 25 frames make a packet (1/3 s):
//
//	byte 1  0x01 (start of frame)
//	byte 2  status: bit 7 always 1, bit 6 SNSD sensor disconnect,
//	        bit 5 ARTF artifact, bit 4 OOT out of track, bit 3 SNSA
//	        sensor alarm, bits 2:1 perfusion (01 green, 10 red,
//	        11 yellow), bit 0 SYNC (1 on frame 1 of a packet)
//	byte 3  pleth (8-bit plethysmogram sample)
//	byte 4  data byte, by frame position in the packet:
//	        1 HR MSB (bits 1:0 = HR bits 8:7), 2 HR LSB (bits 6:0),
//	        3 SpO2, 4 SREV (firmware revision), 8 STAT2, 9 SpO2-D,
//	        10 SpO2 fast, 11 SpO2 beat-to-beat, 14/15 E-HR MSB/LSB,
//	        16 E-SpO2, 17 E-SpO2-D, 20/21 HR-D MSB/LSB,
//	        22/23 E-HR-D MSB/LSB, others reserved
//	byte 5  checksum = (byte1 + byte2 + byte3 + byte4) mod 256
//
// Missing values are sent as HR 511 and SpO2 127; the decoder keeps those
// codes (HRMissing, SpO2Missing) so the caller can mark gaps.
//
// Decoder is the pure, allocation-free, resynchronising byte-stream
// decoder (it never panics on any input and counts bad checksums and
// skipped bytes). Dev reads frames from an io.Reader such as the
// serial.Port hal opens, and maps a vanished device to
// buserr.ErrDisconnected so the caller can reopen. Frame.Lost estimates
// frames lost before each frame (from skipped bytes). Stuck values are
// left to the caller: the oximeter flags its own sensor faults (SNSD,
// SNSA, OOT), and an 8-bit pleth legitimately repeats at 75 frames/s.
package nonin
