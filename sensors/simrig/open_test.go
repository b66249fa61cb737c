package simrig_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"medagent/config"
	"medagent/hal/buserr"
	"medagent/sensors"
	"medagent/sensors/ads1292"
	"medagent/sensors/max3010x"
	"medagent/sensors/nonin"
	"medagent/sensors/registry"
	"medagent/sensors/simrig"
	"medagent/sensors/tmp117"
)

// Each descriptor turns an entry's options into the part's registers,
// opens it on the rig's buses (lines included) and halts it on Close.
func TestDescriptorsOpenOnRig(t *testing.T) {
	var now time.Duration
	offset := -125
	entries := []sensors.Config{
		{Name: "temp", Driver: "tmp117", Bus: "sim", Address: 0x48, Rate: 4, DRDY: "sim:" + simrig.PinTMPAlert,
			Settings: &tmp117.Settings{Mode: "continuous", Averaging: 8, OffsetMK: &offset}},
		{Name: "ppg", Driver: "max30102", Bus: "sim", Address: 0x57, Rate: 200, DRDY: "sim:" + simrig.PinMAXInt,
			Settings: &max3010x.Settings{Mode: "spo2", PulseWidth: 215, ADCRange: 4096, Averaging: 1, LEDRed: 40}},
		{Name: "ecg", Driver: "ads1292r", Bus: "sim", SPIMode: 1, SPIMaxHz: 1000000, DRDY: "sim:" + simrig.PinADSDRDY, Rate: 250,
			Settings: &ads1292.Settings{Channel: 2, Gain1: 6, Gain2: 12, VREF: "2.42", LeadOff: true}},
		{Name: "oxi", Driver: "nonin", Bus: "sim"},
	}
	r, err := simrig.ForSensors(entries, config.Default().Sim, func() time.Duration { return now })
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	buses := r.Buses(sensors.Buses{})
	var devs []sensors.Device
	for _, c := range entries {
		src, err := registry.Resolve(c)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		d, err := src.Open(buses)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		devs = append(devs, d)
	}
	if got := r.TMP117.Reg(tmp117.RegOffset); got != 0xFFF0 {
		t.Errorf("TMP117 offset register %#x, want -16 LSB (-125 m°C)", got)
	}
	if cv := r.TMP117.Reg(tmp117.RegConfig) >> 7 & 7; cv != 2 {
		t.Errorf("TMP117 CONV=%d, want 2 (250 ms with 8 averages) for rate 4", cv)
	}
	if r.MAX.Reg(max3010x.RegSpO2Config) != 0x2A || r.MAX.Reg(max3010x.RegLED1PA) != 40 {
		t.Errorf("MAX3010x SpO2 config %#x LED1 %d", r.MAX.Reg(max3010x.RegSpO2Config), r.MAX.Reg(max3010x.RegLED1PA))
	}
	if r.ADS.Reg(ads1292.RegCH2SET) != 0x60 || r.ADS.Reg(ads1292.RegConfig1) != 0x01 {
		t.Errorf("ADS1292R CH2SET %#x CONFIG1 %#x", r.ADS.Reg(ads1292.RegCH2SET), r.ADS.Reg(ads1292.RegConfig1))
	}
	if err := r.Nonin.WriteFrames(nonin.FramesPerPacket); err != nil {
		t.Fatal(err)
	}
	b := make([]sensors.Block, 3)
	if _, err := devs[3].Read(b, 0); err != nil || len(b[0].Samples) == 0 {
		t.Fatalf("Nonin read %d samples, %v", len(b[0].Samples), err)
	}
	for _, d := range devs {
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if m := r.TMP117.Reg(tmp117.RegConfig) >> 10 & 3; m != 1 {
		t.Errorf("TMP117 not halted: MOD=%d", m)
	}
	if r.MAX.Reg(max3010x.RegModeConfig)&max3010x.ModeShutdown == 0 {
		t.Error("MAX3010x not halted")
	}
}

// Opening fails with the bus error that names the thing: no chip at an
// address (NACK), a line the rig does not have.
func TestOpenErrors(t *testing.T) {
	r, err := simrig.ForSensors(nil, config.Default().Sim, func() time.Duration { return 0 })
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	buses := r.Buses(sensors.Buses{})
	open := func(c sensors.Config) error {
		src, err := registry.Resolve(c)
		if err != nil {
			return err
		}
		d, err := src.Open(buses)
		if err == nil {
			d.Close()
		}
		return err
	}
	if err := open(sensors.Config{Name: "t", Driver: "tmp117", Bus: "sim", Address: 0x49}); !errors.Is(err, buserr.ErrNACK) {
		t.Errorf("absent chip: %v, want NACK", err)
	}
	err = open(sensors.Config{Name: "e", Driver: "ads1292r", Bus: "sim", SPIMode: 1, DRDY: "sim:nope"})
	if !errors.Is(err, buserr.ErrNotFound) || !strings.Contains(err.Error(), "drdy") || !strings.Contains(err.Error(), "ads-drdy") {
		t.Errorf("missing drdy line: %v, want not found naming the rig's lines", err)
	}
	if err := open(sensors.Config{Name: "o", Driver: "nonin", Bus: "sim"}); !errors.Is(err, buserr.ErrNotFound) {
		t.Errorf("no simulated oximeter: %v, want not found", err)
	}
}
