package ads1292

import (
	"fmt"

	"medagent/hal/buserr"
)

func bad(format string, a ...any) error {
	return fmt.Errorf("ads1292: "+format+": %w", append(a, buserr.ErrBadConfig)...)
}

// resolve checks o and computes register values (index = address) and
// the mV per code of each channel.
func resolve(o *Opts) (regs [NumRegs]uint8, lsb [2]float64, rate int, err error) {
	rate = o.Rate
	if rate == 0 {
		rate = 500
	}
	dr := -1
	for i, r := range Rates {
		if r == rate {
			dr = i
		}
	}
	if dr < 0 {
		return regs, lsb, 0, bad("rate %d not in %v", rate, Rates)
	}
	vref := VREF242
	regs[RegConfig1] = uint8(dr)
	regs[RegConfig2] = Cfg2Reserved | Cfg2PDBRef
	if o.VREF4V {
		regs[RegConfig2] |= Cfg2VREF4V
		vref = VREF4V
	}
	regs[RegLOFF] = 0x10 // bit 4 reserved 1; COMP_TH 95 %, 6 nA, DC
	if o.LeadOff {
		regs[RegConfig2] |= Cfg2PDBLOFF
		regs[RegLOFFSens] = 0x0F
	}
	for ch := 0; ch < 2; ch++ {
		g := o.Gain[ch]
		if g == 0 {
			g = 6
		}
		code := -1
		for i, x := range Gains {
			if x == g {
				code = i
			}
		}
		if code < 0 {
			return regs, lsb, 0, bad("channel %d gain %d not in %v", ch+1, g, Gains)
		}
		regs[RegCH1SET+ch] = uint8(code) << 4 // normal electrode input
		lsb[ch] = 2 * vref / float64(g) / (1 << 24) * 1000
	}
	if o.RLD {
		regs[RegRLDSens] = 0x20 | 0x0C // PDB_RLD, RLD2N, RLD2P
	}
	regs[RegResp1] = 0x02 // bit 1 reserved 1
	regs[RegResp2] = 0x03 // bit 0 reserved 1, RLDREF_INT=1 (internal), RESP_FREQ=0 (32 kHz)
	if o.Respiration {
		if o.AllowADS1292 {
			return regs, lsb, 0, bad("respiration needs the ADS1292R")
		}
		// RESP_DEMOD_EN1 | RESP_MOD_EN | RESP_PH=1010 (112.5° at 32 kHz) |
		// reserved 1 | RESP_CTRL=0 (internal clock) = 0xEA.
		regs[RegResp1] = 0xC0 | 0x0A<<2 | 0x02
	}
	regs[RegGPIO] = 0x0C // both GPIOs inputs
	return regs, lsb, rate, nil
}
