// Package ads1292 drives the Texas Instruments ADS1292R two-channel 24-bit
// biopotential front end (ECG on channel 2, respiration on channel 1) over
// SPI.
//
// Written from the datasheet "ADS129x Low-Power, 2-Channel, 24-Bit Analog
// Front-End for Biopotential Measurements", TI document SBAS502 (revision C
// used here): SPI mode 1 (CPOL=0, CPHA=1), opcode table (RESET, START,
// STOP, RDATAC, SDATAC, RDATA, RREG, WREG), register map (ID, CONFIG1,
// CONFIG2, LOFF, CH1SET, CH2SET, RLD_SENS, LOFF_SENS, LOFF_STAT, RESP1,
// RESP2, GPIO), the 72-bit data frame (24-bit status 1100 + LOFF_STAT[4:0]
// + GPIO[1:0], then two 24-bit two's complement channels) and the LSB size
// 2·VREF/gain/2^24.
//
// Data comes from RDATAC frames clocked out after each DRDY falling edge
// (a GPIO line with edge detection) and goes into a caller-owned Frame
// with raw codes, millivolts and decoded lead-off flags. Lost frames are
// estimated from the DRDY timing against Opts.Clock (exact against the
// simulator; on hardware only as good as the edge timestamp latency, which
// must stay under half a sample period). The driver never logs and starts
// no goroutines; errors wrap medagent/hal/buserr sentinels. Stuck values
// are counted by Dev.Repeats; the policy is the caller's.
//
// Multi-byte commands need 4 tCLK (about 2 µs at 2.048 MHz) between bytes
// on hardware; the default SPI clock of 500 kHz (16 µs per byte) meets that
// without inter-byte delays.
package ads1292
