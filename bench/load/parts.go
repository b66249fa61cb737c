package main

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"medagent/senml"
)

// bufferedPart is a part that holds its samples for a while (a FIFO, a
// tty), measured beside the ECG: the MAX3010x (32-sample FIFO, 320 ms at
// 100/s) and the Nonin oximeter (the tty's 4 KiB, ~11 s of frames). Its
// waveform is published at its own rate; a slot of a window without a
// valid sample is a loss.
type bufferedPart struct {
	sensor, mdc, what string
	rate              float64

	windows  int
	times    []float64 // every valid sample received, base time + offset, s
	reported int       // the driver's count, from the part's loss events
}

func bufferedParts() []*bufferedPart {
	return []*bufferedPart{
		{sensor: "ppg", mdc: "MDC_PULS_OXIM_PLETH_IR", what: "MAX3010x (FIFO 320 ms), 100/s", rate: 100},
		{sensor: "oxi", mdc: "MDC_PULS_OXIM_PLETH", what: "Nonin (tty ~11 s), 75/s", rate: 75},
	}
}

// partsYAML is the bench's sensors: the default three and a Nonin, every
// waveform published at its own rate (500 is the ECG's).
const partsYAML = `edge: {waveforms: [ecg, ppg, oxi], waveform_rate: 500}
sensors:
  - {name: ecg, driver: ads1292r, rate: 500, bus: sim, drdy: "sim:ads-drdy", spi_mode: 1}
  - {name: ppg, driver: max30102, rate: 100, bus: sim, address: 0x57}
  - {name: temp, driver: tmp117, rate: 1, bus: sim, address: 0x48}
  - {name: oxi, driver: nonin, bus: sim}
`

// window takes one telemetry pack of the part.
func (p *bufferedPart) window(pk senml.Resolved) {
	p.windows++
	for _, e := range pk.Records {
		if e.Name[strings.LastIndex(e.Name, ":")+1:] == p.mdc && e.Value != nil {
			p.times = append(p.times, e.Time)
		}
	}
}

// event takes one event pack of the part (its loss reports).
func (p *bufferedPart) event(pk senml.Resolved) {
	for _, e := range pk.Records {
		if strings.HasSuffix(e.Name, "event/lost") && e.Value != nil {
			p.reported += int(*e.Value)
		}
	}
}

// print reports the slots without a valid sample, and the samples off the
// slot grid of the first one (a loss must not shift the others) or on a
// slot already filled.
func (p *bufferedPart) print() {
	slots := p.windows * int(p.rate) // one-second windows
	if len(p.times) == 0 {
		fmt.Printf("  %-22s no samples received in %d windows\n", p.sensor+" samples lost", p.windows)
		return
	}
	t0 := p.times[0]
	seen := map[int64]bool{}
	off := 0
	for _, t := range p.times {
		x := (t - t0) * p.rate
		k := int64(math.Round(x))
		if math.Abs(x-float64(k)) > 0.05 || seen[k] {
			off++
			continue
		}
		seen[k] = true
	}
	lost := slots - len(seen)
	fmt.Printf("  %-22s %d of %d = %.3f %% (%s); %d samples off their slot or duplicated; the driver reported %d lost\n",
		p.sensor+" samples lost", lost, slots, 100*float64(lost)/float64(max(slots, 1)), p.what, off, p.reported)
}

// vitalRange is the range of one vital sign as published: the patient is
// steady (HR 72, SpO2 97), so a wide range is a false reading (under load
// a heart rate of 33 to 157 was published for 72 before the real-time
// path).
type vitalRange struct {
	lo, hi float64
	n      int
}

// vitals are the published vital signs by "sensor name".
type vitals map[string]*vitalRange

var vitalNames = []string{"MDC_ECG_HEART_RATE", "MDC_PULS_OXIM_SAT_O2", "MDC_PULS_OXIM_PULS_RATE"}

func (v vitals) add(sensor string, pk senml.Resolved) {
	for _, e := range pk.Records {
		name := e.Name[strings.LastIndex(e.Name, ":")+1:]
		if e.Value == nil || !slices.Contains(vitalNames, name) {
			continue
		}
		k := sensor + " " + name
		r := v[k]
		if r == nil {
			r = &vitalRange{lo: *e.Value, hi: *e.Value}
			v[k] = r
		}
		r.lo, r.hi, r.n = min(r.lo, *e.Value), max(r.hi, *e.Value), r.n+1
	}
}

func (v vitals) print() {
	keys := slices.Sorted(maps.Keys(v))
	var parts []string
	for _, k := range keys {
		r := v[k]
		parts = append(parts, fmt.Sprintf("%s %.0f–%.0f (%d)", k, r.lo, r.hi, r.n))
	}
	fmt.Printf("  vitals published        %s (patient: HR 72, SpO2 97)\n", strings.Join(parts, ", "))
}
