package max3010x

import (
	"fmt"

	"medagent/hal/buserr"
)

type resolved struct {
	mode       uint8
	fifo, spo2 uint8
	led        [3]uint8
	slots      [4]LED
	nch        int
	rate       float64
}

func index(list []int, v int) int {
	for i, x := range list {
		if x == v {
			return i
		}
	}
	return -1
}

func bad(format string, a ...any) error {
	return fmt.Errorf("max3010x: "+format+": %w", append(a, buserr.ErrBadConfig)...)
}

// resolve checks o and computes the register values.
func resolve(o *Opts) (resolved, error) {
	var r resolved
	mode := o.Mode
	if mode == 0 {
		mode = SpO2
	}
	sr, pw, adc, avg, af := o.SampleRate, o.PulseWidth, o.ADCRange, o.Averaging, o.AlmostFull
	if sr == 0 {
		sr = 100
	}
	if pw == 0 {
		pw = 411
	}
	if adc == 0 {
		adc = 4096
	}
	if avg == 0 {
		avg = 1
	}
	if af == 0 {
		af = 17
	}
	srI := index(SampleRates[:], sr)
	if srI < 0 {
		return r, bad("sample rate %d not in %v", sr, SampleRates)
	}
	pwI := -1
	for i, p := range PulseWidths {
		if p.Micros == pw {
			pwI = i
		}
	}
	if pwI < 0 {
		return r, bad("pulse width %d µs not one of 69, 118, 215, 411", pw)
	}
	adcI := index(ADCRanges[:], adc)
	if adcI < 0 {
		return r, bad("ADC range %d nA not in %v", adc, ADCRanges)
	}
	avgI := index(Averages[:6], avg)
	if avgI < 0 {
		return r, bad("averaging %d not one of 1, 2, 4, 8, 16, 32", avg)
	}
	if af < 17 || af > 32 {
		return r, bad("almost-full %d not in 17..32", af)
	}
	r.led = o.LEDCurrent
	if r.led[0] == 0 {
		r.led[0] = 0x24
	}
	if r.led[1] == 0 {
		r.led[1] = 0x24
	}
	switch mode {
	case HeartRate:
		r.nch = 1
	case SpO2:
		r.nch = 2
		// Datasheet SpO2 table: the longest pulse widths do not fit the
		// highest sample rates.
		if maxSR := [4]int{3200, 1600, 1000, 400}[pwI]; sr > maxSR {
			return r, bad("SpO2 mode at %d µs pulse width allows at most %d samples/s, not %d", pw, maxSR, sr)
		}
	case MultiLED:
		for i, s := range o.Slots {
			if s > Green {
				return r, bad("slot %d LED %d", i+1, s)
			}
			if s == SlotOff {
				break
			}
			r.nch++
		}
		if r.nch == 0 {
			return r, bad("multi-LED mode with slot 1 off")
		}
		r.slots = o.Slots
	default:
		return r, bad("mode %d", mode)
	}
	r.mode = uint8(mode)
	r.spo2 = uint8(adcI)<<5 | uint8(srI)<<2 | uint8(pwI)
	r.fifo = uint8(avgI)<<5 | uint8(32-af)
	if o.Rollover {
		r.fifo |= FIFORollover
	}
	r.rate = float64(sr) / float64(avg)
	return r, nil
}
