package tmp117

import (
	"errors"
	"fmt"
	"time"

	"medagent/hal/buserr"

	"medagent/sensors/internal/pinwait"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
)

// doSleep is the seam tests replace to run one-shot and EEPROM waits
// without real time passing.
var doSleep = time.Sleep

// Opts configures the part. The zero value means continuous conversion,
// CONV=100 (1 s), AVG=01 (8 averages), DRDY not routed to ALERT.
type Opts struct {
	Mode Mode
	// Conv is CONV[2:0]; nil means 4 (1 s cycle).
	Conv *uint8
	// Avg is AVG[1:0]; nil means Avg8.
	Avg *Averaging
	// DataReadyOnAlert routes the data-ready flag to the ALERT pin
	// (DR/Alert=1) so it can be used as an edge-triggered data-ready line.
	DataReadyOnAlert bool
	// AlertActiveHigh sets POL=1; the default is active low (open drain).
	AlertActiveHigh bool
	// AlertPin, when set, is the line wired to ALERT; it implies
	// DataReadyOnAlert and enables WaitDataReady.
	AlertPin gpio.PinIn
	// Offset, when not nil, is written to the volatile Temp_Offset
	// register (EEPROM untouched).
	Offset *physic.Temperature
}

// Dev is a handle to one TMP117.
type Dev struct {
	d     i2c.Dev
	cfg   uint16
	w     [3]byte
	r     [2]byte
	last  int16
	rep   int
	have  bool
	alert gpio.PinIn
	// oneShot: the part idles in shutdown and Sense triggers conversions.
	oneShot bool
}

// New probes the chip ID at addr (0x48..0x4B) and writes the configuration.
// It never writes EEPROM.
func New(bus i2c.Bus, addr uint16, o *Opts) (*Dev, error) {
	if o == nil {
		o = &Opts{}
	}
	if o.AlertPin != nil {
		oo := *o
		oo.DataReadyOnAlert = true
		o = &oo
	}
	if addr < 0x48 || addr > 0x4B {
		return nil, fmt.Errorf("tmp117: address %#x not in 0x48..0x4b: %w", addr, buserr.ErrBadConfig)
	}
	d := &Dev{d: i2c.Dev{Bus: bus, Addr: addr}}
	id, err := d.readReg(RegDeviceID)
	if err != nil {
		return nil, fmt.Errorf("tmp117: read device ID: %w", err)
	}
	if id&0x0FFF != DeviceID {
		return nil, fmt.Errorf("tmp117: probe: %w", &buserr.IDError{Chip: "tmp117", Got: uint32(id), Want: DeviceID})
	}
	cfg, err := configWord(o)
	if err != nil {
		return nil, err
	}
	// A part left unlocked (say, power lost mid-ProgramEEPROM) would burn
	// every register write below into EEPROM: lock it first.
	ul, err := d.readReg(RegEEPROMUL)
	if err != nil {
		return nil, fmt.Errorf("tmp117: read EEPROM lock: %w", err)
	}
	if ul&ULUnlock != 0 {
		if err := d.writeReg(RegEEPROMUL, 0); err != nil {
			return nil, fmt.Errorf("tmp117: lock EEPROM: %w", err)
		}
	}
	if err := d.writeReg(RegConfig, cfg); err != nil {
		return nil, fmt.Errorf("tmp117: write config: %w", err)
	}
	d.cfg = cfg
	d.oneShot = o.Mode == OneShot
	if o.AlertPin != nil {
		edge := gpio.FallingEdge
		if o.AlertActiveHigh {
			edge = gpio.RisingEdge
		}
		if err := o.AlertPin.In(gpio.PullUp, edge); err != nil {
			return nil, fmt.Errorf("tmp117: ALERT pin %s: %w", o.AlertPin, err)
		}
		d.alert = o.AlertPin
	}
	if o.Offset != nil {
		if err := d.SetOffset(*o.Offset); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func configWord(o *Opts) (uint16, error) {
	conv, avg := uint8(4), Avg8
	if o.Conv != nil {
		conv = *o.Conv
	}
	if o.Avg != nil {
		avg = *o.Avg
	}
	if conv > 7 {
		return 0, fmt.Errorf("tmp117: conv %d > 7: %w", conv, buserr.ErrBadConfig)
	}
	if avg > Avg64 {
		return 0, fmt.Errorf("tmp117: avg %d > 3: %w", avg, buserr.ErrBadConfig)
	}
	switch o.Mode {
	case Continuous, Shutdown, OneShot:
	default:
		return 0, fmt.Errorf("tmp117: mode %d: %w", o.Mode, buserr.ErrBadConfig)
	}
	mode := o.Mode
	if mode == OneShot {
		// One-shot is triggered per Sense; idle in shutdown between.
		mode = Shutdown
	}
	cfg := uint16(mode)<<cfgModShift | uint16(conv)<<cfgConvShift | uint16(avg)<<cfgAvgShift
	if o.DataReadyOnAlert {
		cfg |= CfgDRAlert
	}
	if o.AlertActiveHigh {
		cfg |= CfgPol
	}
	return cfg, nil
}

func (d *Dev) String() string { return fmt.Sprintf("TMP117{%s}", &d.d) }

// Period is the conversion cycle time of the current configuration.
func (d *Dev) Period() time.Duration {
	return CycleTime(uint8(d.cfg&cfgConvMask>>cfgConvShift), Averaging(d.cfg&cfgAvgMask>>cfgAvgShift))
}

// Sense reads the latest temperature into t. In continuous mode it reads
// the result register; with Opts.Mode == OneShot it triggers a conversion,
// waits for it and polls the data-ready flag (bounded). A caller that must
// not wait during the conversion uses StartConversion, ReadStatus and
// Result instead.
func (d *Dev) Sense(t *physic.Temperature) error {
	if d.oneShot {
		if err := d.triggerOneShot(); err != nil {
			return err
		}
	}
	return d.Result(t)
}

// Result reads the result register (the last finished conversion) into t
// without starting one.
func (d *Dev) Result(t *physic.Temperature) error {
	raw, err := d.readReg(RegTemp)
	if err != nil {
		return fmt.Errorf("tmp117: read temperature: %w", err)
	}
	v := int16(raw)
	if d.have && v == d.last {
		d.rep++
	} else {
		d.rep = 0
	}
	d.last, d.have = v, true
	*t = physic.ZeroCelsius + physic.Temperature(v)*LSB
	return nil
}

// StartConversion starts one conversion of a part in one-shot mode and
// returns how long it takes; the data-ready flag (ReadStatus) then says
// when Result holds it. The part returns to shutdown by itself.
func (d *Dev) StartConversion() (time.Duration, error) {
	if !d.oneShot {
		return 0, fmt.Errorf("tmp117: start conversion: not in one-shot mode: %w", buserr.ErrBadConfig)
	}
	w := d.cfg&^cfgModMask | uint16(OneShot)<<cfgModShift
	if err := d.writeReg(RegConfig, w); err != nil {
		return 0, fmt.Errorf("tmp117: start one-shot: %w", err)
	}
	return ConversionTime(Averaging(d.cfg & cfgAvgMask >> cfgAvgShift)), nil
}

func (d *Dev) triggerOneShot() error {
	wait, err := d.StartConversion()
	if err != nil {
		return err
	}
	doSleep(wait)
	for i := 0; i < 10; i++ {
		c, err := d.readReg(RegConfig)
		if err != nil {
			return fmt.Errorf("tmp117: poll data ready: %w", err)
		}
		if c&CfgDataReady != 0 {
			return nil
		}
		doSleep(2 * time.Millisecond)
	}
	return fmt.Errorf("tmp117: one-shot conversion: %w", buserr.ErrTimeout)
}

// WaitDataReady waits up to timeout for the ALERT line to signal a new
// conversion (Opts.AlertPin); it reports whether one came. Sense then
// reads it (and so releases the line).
func (d *Dev) WaitDataReady(timeout time.Duration) (bool, error) {
	if d.alert == nil {
		return false, fmt.Errorf("tmp117: no ALERT pin configured: %w", buserr.ErrBadConfig)
	}
	active := gpio.Low
	if d.cfg&CfgPol != 0 {
		active = gpio.High
	}
	return pinwait.Active(d.alert, active, timeout), nil
}

// Repeats is how many consecutive Sense calls returned exactly the same raw
// value as the one before (0 after a change). See the package doc.
func (d *Dev) Repeats() int { return d.rep }

// Status is the flag half of the configuration register.
type Status struct {
	HighAlert, LowAlert, DataReady, EEPROMBusy bool
}

// ReadStatus reads the configuration register. Reading clears DataReady and
// (in alert mode) the alert flags, as on the chip.
func (d *Dev) ReadStatus(s *Status) error {
	c, err := d.readReg(RegConfig)
	if err != nil {
		return fmt.Errorf("tmp117: read config: %w", err)
	}
	*s = Status{
		HighAlert:  c&CfgHighAlert != 0,
		LowAlert:   c&CfgLowAlert != 0,
		DataReady:  c&CfgDataReady != 0,
		EEPROMBusy: c&CfgEEPROMBusy != 0,
	}
	return nil
}

// SetOffset writes the volatile Temp_Offset register; the chip adds it to
// every result. The range is ±256 °C in 7.8125 m°C steps.
func (d *Dev) SetOffset(off physic.Temperature) error {
	raw := int64(off) / LSB
	if raw > 32767 || raw < -32768 {
		return fmt.Errorf("tmp117: offset %s out of range: %w", off, buserr.ErrBadConfig)
	}
	if err := d.writeReg(RegOffset, uint16(int16(raw))); err != nil {
		return fmt.Errorf("tmp117: write offset: %w", err)
	}
	return nil
}

// Offset reads Temp_Offset.
func (d *Dev) Offset() (physic.Temperature, error) {
	raw, err := d.readReg(RegOffset)
	if err != nil {
		return 0, fmt.Errorf("tmp117: read offset: %w", err)
	}
	return physic.Temperature(int16(raw)) * LSB, nil
}

// ProgramEEPROM stores the current configuration and offset in EEPROM so
// they survive power cycles: unlock (EUN=1), write each register, poll
// EEPROM_Busy after each write (bounded), lock. Call only when asked to;
// the EEPROM has a limited write endurance.
func (d *Dev) ProgramEEPROM() error {
	off, err := d.readReg(RegOffset)
	if err != nil {
		return fmt.Errorf("tmp117: eeprom: read offset: %w", err)
	}
	if err := d.writeReg(RegEEPROMUL, ULUnlock); err != nil {
		return fmt.Errorf("tmp117: eeprom: unlock: %w", err)
	}
	progErr := d.program(RegConfig, d.cfg)
	if progErr == nil {
		progErr = d.program(RegOffset, off)
	}
	// Lock even after a failure so later writes stay volatile.
	if err := d.writeReg(RegEEPROMUL, 0); err != nil {
		return errors.Join(progErr, fmt.Errorf("tmp117: eeprom: lock: %w", err))
	}
	return progErr
}

func (d *Dev) program(reg uint8, v uint16) error {
	if err := d.writeReg(reg, v); err != nil {
		return fmt.Errorf("tmp117: eeprom: write reg %#x: %w", reg, err)
	}
	for i := 0; i < 20; i++ {
		doSleep(time.Millisecond)
		ul, err := d.readReg(RegEEPROMUL)
		if err != nil {
			return fmt.Errorf("tmp117: eeprom: poll busy: %w", err)
		}
		if ul&ULBusy == 0 {
			return nil
		}
	}
	return fmt.Errorf("tmp117: eeprom: busy after write of reg %#x: %w", reg, buserr.ErrTimeout)
}

// Halt puts the part in shutdown mode (MOD=01).
func (d *Dev) Halt() error {
	c := d.cfg&^cfgModMask | uint16(Shutdown)<<cfgModShift
	if err := d.writeReg(RegConfig, c); err != nil {
		return fmt.Errorf("tmp117: halt: %w", err)
	}
	return nil
}

func (d *Dev) readReg(reg uint8) (uint16, error) {
	d.w[0] = reg
	if err := d.d.Tx(d.w[:1], d.r[:]); err != nil {
		return 0, err
	}
	return uint16(d.r[0])<<8 | uint16(d.r[1]), nil
}

func (d *Dev) writeReg(reg uint8, v uint16) error {
	d.w[0], d.w[1], d.w[2] = reg, byte(v>>8), byte(v)
	return d.d.Tx(d.w[:3], nil)
}
