package ads1292

// Opcodes (SBAS502 table 13).
const (
	OpWakeup  = 0x02
	OpStandby = 0x04
	OpReset   = 0x06
	OpStart   = 0x08
	OpStop    = 0x0A
	OpOffCal  = 0x1A
	OpRDATAC  = 0x10
	OpSDATAC  = 0x11
	OpRDATA   = 0x12
	OpRREG    = 0x20 // | address; second byte = count-1
	OpWREG    = 0x40 // | address; second byte = count-1
)

// Registers.
const (
	RegID       = 0x00
	RegConfig1  = 0x01
	RegConfig2  = 0x02
	RegLOFF     = 0x03
	RegCH1SET   = 0x04
	RegCH2SET   = 0x05
	RegRLDSens  = 0x06
	RegLOFFSens = 0x07
	RegLOFFStat = 0x08
	RegResp1    = 0x09
	RegResp2    = 0x0A
	RegGPIO     = 0x0B
	NumRegs     = 12
)

// ID register values: REV_ID[7:5], bit 4 set, DEV_ID[1:0]=11.
const (
	IDADS1292R = 0x73
	IDADS1292  = 0x53
)

// CONFIG2 bits.
const (
	Cfg2Reserved = 0x80 // must be written 1
	Cfg2PDBLOFF  = 0x40 // lead-off comparators on
	Cfg2PDBRef   = 0x20 // internal reference buffer on
	Cfg2VREF4V   = 0x10 // 4.033 V instead of 2.42 V
	Cfg2ClkEn    = 0x08
	Cfg2IntTest  = 0x02
)

// Lead-off status bits as in LOFF_STAT[4:0] and status word bits 19:15.
const (
	LeadOffIN1P = 1 << 0
	LeadOffIN1N = 1 << 1
	LeadOffIN2P = 1 << 2
	LeadOffIN2N = 1 << 3
	LeadOffRLD  = 1 << 4
)

// Rates are the CONFIG1 DR[2:0] settings in samples per second.
var Rates = [7]int{125, 250, 500, 1000, 2000, 4000, 8000}

// Gains are the CHnSET GAIN[2:0] settings (codes 0..6).
var Gains = [7]int{6, 1, 2, 3, 4, 8, 12}

// VREF values in volts.
const (
	VREF242 = 2.42
	VREF4V  = 4.033
)

// FrameBytes is the size of one RDATAC frame.
const FrameBytes = 9
