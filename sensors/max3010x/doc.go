// Package max3010x drives the Maxim (Analog Devices) MAX30101 and MAX30102
// pulse-oximetry and heart-rate modules over I²C (address 0x57).
//
// Written from the datasheets MAX30102 (Maxim 19-7740, Rev 1) and MAX30101
// (Maxim 19-7332, Rev 3): register map table "Register Maps and
// Descriptions", FIFO description (32-sample FIFO, 5-bit FIFO_WR_PTR /
// FIFO_RD_PTR / OVF_COUNTER), SpO2 configuration tables (ADC range, sample
// rate, LED pulse width → ADC resolution) and die-temperature conversion.
//
// Samples come out of the chip FIFO as raw ADC counts on the 18-bit scale
// (bits 17:0; with shorter pulse widths the low bits are zero, as the chip
// left-justifies lower resolutions) and go into caller-owned Sample slices.
// ReadFIFO reports how many samples the chip dropped since the last read
// (OVF_COUNTER): lost samples are reported, never hidden. OVF_COUNTER
// saturates at 31, so a lost count of 31 means "31 or more".
//
// The driver never logs and starts no goroutines; an optional interrupt
// line (active low, open drain) can be waited on with WaitInterrupt.
// Errors wrap medagent/hal/buserr sentinels. Stuck values are counted by
// Dev.Repeats (identical consecutive samples on every channel); the policy
// is the caller's.
package max3010x
