package tmp117

import "time"

// Register addresses (SNOSD82 table 7-9).
const (
	RegTemp     = 0x00
	RegConfig   = 0x01
	RegTHigh    = 0x02
	RegTLow     = 0x03
	RegEEPROMUL = 0x04
	RegEEPROM1  = 0x05
	RegEEPROM2  = 0x06
	RegOffset   = 0x07
	RegEEPROM3  = 0x08
	RegDeviceID = 0x0F
)

// Configuration register bits.
const (
	CfgHighAlert  = 1 << 15
	CfgLowAlert   = 1 << 14
	CfgDataReady  = 1 << 13
	CfgEEPROMBusy = 1 << 12
	cfgModShift   = 10
	cfgModMask    = 3 << cfgModShift
	cfgConvShift  = 7
	cfgConvMask   = 7 << cfgConvShift
	cfgAvgShift   = 5
	cfgAvgMask    = 3 << cfgAvgShift
	CfgTnA        = 1 << 4
	CfgPol        = 1 << 3
	CfgDRAlert    = 1 << 2
	CfgSoftReset  = 1 << 1
)

// EEPROM_UL register bits.
const (
	ULUnlock = 1 << 15
	ULBusy   = 1 << 14
)

// DeviceID is the value of bits 11:0 of register 0x0F; bits 15:12 are the
// die revision.
const DeviceID = 0x117

// ResetConfig is the factory power-on value of the configuration register:
// continuous conversion, CONV=100 (1 s), AVG=01 (8 averages).
const ResetConfig = 0x0220

// LSB is the temperature step of the result and offset registers in
// nano-kelvin (7.8125 m°C).
const LSB = 7812500

// Mode is the conversion mode, MOD[1:0].
type Mode uint8

// Conversion modes.
const (
	Continuous Mode = 0 // MOD=00 (10 is the same)
	Shutdown   Mode = 1
	OneShot    Mode = 3
)

// Averaging is AVG[1:0].
type Averaging uint8

// Averaging settings.
const (
	Avg1  Averaging = 0
	Avg8  Averaging = 1
	Avg32 Averaging = 2
	Avg64 Averaging = 3
)

// activeTime is the time one conversion takes for each averaging setting
// (table 7-7, first column).
var activeTime = [4]time.Duration{
	15500 * time.Microsecond, 125 * time.Millisecond, 500 * time.Millisecond, time.Second,
}

var standby = [8]time.Duration{
	0, 125 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second,
}

// CycleTime returns the conversion cycle time for CONV[2:0] and AVG[1:0] in
// continuous mode (SNOSD82 table 7-7): the longer of the averaging time and
// the configured cycle.
func CycleTime(conv uint8, avg Averaging) time.Duration {
	a := activeTime[avg&3]
	c := standby[conv&7]
	if conv&7 == 0 {
		return a
	}
	if a > c {
		return a
	}
	return c
}

// ConversionTime is the time one conversion takes (one-shot wait).
func ConversionTime(avg Averaging) time.Duration { return activeTime[avg&3] }
