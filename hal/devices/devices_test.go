package devices_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"medagent/hal"
	"medagent/hal/buserr"
	"medagent/hal/devices"
	"medagent/hal/halsim"
	"medagent/sensors/ads1292"
	"medagent/sensors/max3010x"
	"medagent/sensors/nonin"
	"medagent/sensors/sim"
	"medagent/sensors/tmp117"

	"periph.io/x/conn/v3/physic"
)

func rig(t *testing.T) (*halsim.Rig, *time.Duration) {
	t.Helper()
	p, err := sim.NewPatient(sim.DefaultPatientOptions())
	if err != nil {
		t.Fatal(err)
	}
	now := new(time.Duration)
	r, err := halsim.New(halsim.Options{Patient: p, Clock: func() time.Duration { return *now },
		ECGRate: 250, PPGRate: 200, TempRate: 4, NoninLink: filepath.Join(t.TempDir(), "spo2")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r, now
}

func TestOpenAll(t *testing.T) {
	r, now := rig(t)

	tc := hal.SensorConfig{Name: "temp", Driver: "tmp117", Bus: "sim", Address: 0x48, Rate: 4, DRDY: "sim:" + halsim.PinTMPAlert,
		Options: map[string]string{"averaging": "8", "offset_mk": "-125"}}
	td, tclose, err := devices.OpenTMP117(tc, r.Sim)
	if err != nil {
		t.Fatal(err)
	}
	if td.Period() != 250*time.Millisecond {
		t.Fatalf("TMP117 period %v for rate 4", td.Period())
	}
	if got := r.TMP117.Reg(tmp117.RegOffset); got != 0xFFF0 {
		t.Fatalf("offset register %#x, want -16 LSB", got)
	}
	*now += time.Second
	if ok, err := td.WaitDataReady(10 * time.Millisecond); err != nil || !ok {
		t.Fatalf("TMP117 ALERT data-ready after 1 s = %v, %v", ok, err)
	}
	var temp physic.Temperature
	if err := td.Sense(&temp); err != nil {
		t.Fatal(err)
	}

	mc := hal.SensorConfig{Name: "ppg", Driver: "max30102", Bus: "sim", Address: 0x57, Rate: 200,
		DRDY: "sim:" + halsim.PinMAXInt, Options: map[string]string{"pulse_width": "215", "led_red": "40"}}
	md, mclose, err := devices.OpenMAX3010x(mc, r.Sim)
	if err != nil {
		t.Fatal(err)
	}
	if r.MAX.Reg(max3010x.RegSpO2Config) != 0x2A || r.MAX.Reg(max3010x.RegLED1PA) != 40 {
		t.Fatalf("SpO2 config %#x LED1 %d", r.MAX.Reg(max3010x.RegSpO2Config), r.MAX.Reg(max3010x.RegLED1PA))
	}
	var st max3010x.Interrupts
	if ok, err := md.WaitInterrupt(50*time.Millisecond, &st); err != nil || ok {
		// The external clock does not move, so no A_FULL can come.
		t.Fatalf("WaitInterrupt = %v, %v", ok, err)
	}

	ac := hal.SensorConfig{Name: "ecg", Driver: "ads1292r", Bus: "sim", SPIMode: 1, SPIMaxHz: 1000000,
		DRDY: "sim:" + halsim.PinADSDRDY, Rate: 250, Options: map[string]string{"gain2": "12", "lead_off": "true"}}
	ad, aclose, err := devices.OpenADS1292R(ac, r.Sim, func() time.Duration { return *now })
	if err != nil {
		t.Fatal(err)
	}
	if r.ADS.Reg(ads1292.RegCH2SET) != 0x60 || r.ADS.Reg(ads1292.RegConfig1) != 0x01 {
		t.Fatalf("CH2SET %#x CONFIG1 %#x", r.ADS.Reg(ads1292.RegCH2SET), r.ADS.Reg(ads1292.RegConfig1))
	}
	*now += ad.Period()
	var f ads1292.Frame
	if err := ad.Read(&f); err != nil {
		t.Fatal(err)
	}

	nc := hal.SensorConfig{Name: "spo2", Driver: "nonin", Bus: r.Nonin.Path(),
		Serial: &hal.SerialFraming{Baud: 9600, DataBits: 8, Parity: "none", StopBits: 1}}
	nd, nclose, err := devices.OpenNonin(nc, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Nonin.WriteFrames(1); err != nil {
		t.Fatal(err)
	}
	var nf nonin.Frame
	if _, err := nd.Read(&nf); err != nil || nf.Pos != 0 {
		t.Fatalf("Nonin frame %+v, %v", nf, err)
	}

	for _, c := range []interface{ Close() error }{tclose, mclose, aclose, nclose} {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if m := r.TMP117.Reg(tmp117.RegConfig) >> 10 & 3; m != 1 {
		t.Fatalf("TMP117 not halted: MOD=%d", m)
	}
	if r.MAX.Reg(max3010x.RegModeConfig)&max3010x.ModeShutdown == 0 {
		t.Fatal("MAX3010x not halted")
	}
}

func TestOpenErrors(t *testing.T) {
	r, _ := rig(t)
	_, _, err := devices.OpenTMP117(hal.SensorConfig{Name: "t", Driver: "tmp117", Bus: "sim", Address: 0x48, Rate: 3}, r.Sim)
	if !errors.Is(err, buserr.ErrBadConfig) || !strings.Contains(err.Error(), "rate") {
		t.Fatalf("rate 3: %v", err)
	}
	_, _, err = devices.OpenTMP117(hal.SensorConfig{Name: "t", Driver: "tmp117", Bus: "sim", Address: 0x49}, r.Sim)
	if !errors.Is(err, buserr.ErrNACK) || !strings.Contains(err.Error(), `sensor "t"`) {
		t.Fatalf("absent chip: %v", err)
	}
	_, _, err = devices.OpenMAX3010x(hal.SensorConfig{Name: "t", Driver: "tmp117", Bus: "sim", Address: 0x48}, r.Sim)
	if !errors.Is(err, buserr.ErrBadConfig) {
		t.Fatalf("wrong driver: %v", err)
	}
	_, _, err = devices.OpenADS1292R(hal.SensorConfig{Name: "e", Driver: "ads1292r", Bus: "sim", SPIMode: 1, DRDY: "sim:nope"}, r.Sim, nil)
	if !errors.Is(err, buserr.ErrNotFound) || !strings.Contains(err.Error(), "drdy") {
		t.Fatalf("missing drdy line: %v", err)
	}
}
