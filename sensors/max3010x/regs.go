package max3010x

// Addr is the fixed 7-bit I²C address of both parts.
const Addr = 0x57

// PartID is the value of register 0xFF for MAX30101 and MAX30102.
const PartID = 0x15

// Register addresses.
const (
	RegIntStatus1 = 0x00
	RegIntStatus2 = 0x01
	RegIntEnable1 = 0x02
	RegIntEnable2 = 0x03
	RegFIFOWrPtr  = 0x04
	RegOvfCounter = 0x05
	RegFIFORdPtr  = 0x06
	RegFIFOData   = 0x07
	RegFIFOConfig = 0x08
	RegModeConfig = 0x09
	RegSpO2Config = 0x0A
	RegLED1PA     = 0x0C // red
	RegLED2PA     = 0x0D // IR
	RegLED3PA     = 0x0E // green (MAX30101 only)
	RegMultiLED1  = 0x11 // SLOT2[6:4] SLOT1[2:0]
	RegMultiLED2  = 0x12 // SLOT4[6:4] SLOT3[2:0]
	RegDieTempInt = 0x1F
	RegDieTempFrc = 0x20
	RegDieTempCfg = 0x21
	RegRevisionID = 0xFE
	RegPartID     = 0xFF
)

// Interrupt status/enable bits.
const (
	IntAFull      = 1 << 7
	IntPPGReady   = 1 << 6
	IntALCOvf     = 1 << 5
	IntProx       = 1 << 4
	IntPowerReady = 1 << 0
	Int2DieTemp   = 1 << 1 // in status/enable 2
)

// Mode configuration bits.
const (
	ModeShutdown = 1 << 7
	ModeReset    = 1 << 6
)

// FIFO configuration bits.
const (
	FIFORollover = 1 << 4
)

// FIFODepth is the number of samples the chip FIFO holds.
const FIFODepth = 32

// OverflowMax is where OVF_COUNTER saturates: a lost count of OverflowMax
// from ReadFIFO means that many samples or more.
const OverflowMax = 31

// Mode is MODE[2:0].
type Mode uint8

// Operating modes.
const (
	HeartRate Mode = 2 // red LED only
	SpO2      Mode = 3 // red and IR
	MultiLED  Mode = 7 // slots from Opts.Slots
)

// LED names a slot's LED in multi-LED mode.
type LED uint8

// Slot contents.
const (
	SlotOff LED = 0
	Red     LED = 1
	IR      LED = 2
	Green   LED = 3
)

// SampleRates are the SPO2_SR[2:0] settings in samples per second.
var SampleRates = [8]int{50, 100, 200, 400, 800, 1000, 1600, 3200}

// PulseWidths are the LED_PW[1:0] settings in µs and their ADC resolution.
var PulseWidths = [4]struct{ Micros, Bits int }{{69, 15}, {118, 16}, {215, 17}, {411, 18}}

// ADCRanges are the SPO2_ADC_RGE[1:0] full scales in nA.
var ADCRanges = [4]int{2048, 4096, 8192, 16384}

// Averages are the SMP_AVE[2:0] settings (5..7 all mean 32).
var Averages = [8]int{1, 2, 4, 8, 16, 32, 32, 32}
