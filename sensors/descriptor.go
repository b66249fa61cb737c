package sensors

import (
	"math"
	"time"
)

// Kind says what a sensor measures, and so which edge algorithms run on
// its streams (edge/pipeline takes it as its Kind).
type Kind string

// The kinds of sensor the edge stage knows.
const (
	ECG      Kind = "ecg"      // one stream: lead II, mV
	PPG      Kind = "ppg"      // two streams: red, IR, raw counts
	Temp     Kind = "temp"     // one stream: °C
	Oximeter Kind = "oximeter" // three streams: SpO2 %, pulse rate /min, pleth
)

// Stream is one signal a sensor delivers.
type Stream struct {
	Name string // within the sensor: blocks are named SENSOR.NAME
	Unit string // UCUM
	MDC  string // IEEE 11073-10101 reference ID of the signal
}

// IEEE 11073-10101 reference IDs of the signals sensors deliver.
const (
	MDCECGLeadII = "MDC_ECG_ELEC_POTL_II"    // mV
	MDCPlethRed  = "MDC_PULS_OXIM_PLETH_RED" // raw counts
	MDCPlethIR   = "MDC_PULS_OXIM_PLETH_IR"  // raw counts
	MDCPleth     = "MDC_PULS_OXIM_PLETH"     // device-scaled plethysmogram
	MDCSpO2      = "MDC_PULS_OXIM_SAT_O2"    // %
	MDCPulseRate = "MDC_PULS_OXIM_PULS_RATE" // 1/min
	MDCTempBody  = "MDC_TEMP_BODY"           // Cel
)

// Technical conditions of the samples a part reports lost, as spooled
// in a sensor event's "event/condition".
const (
	LossOverflow = "fifo_overflow" // a chip FIFO overflowed (MAX3010x)
	LossFrames   = "frames_lost"   // frames missed (ADS1292R overrun, Nonin frames missing)
)

// Descriptor is everything medagent knows about one kind of sensor part:
// its names in the configuration, how it is connected, its options and
// what it delivers. Each sensors/<chip> package exports one; the
// sensors/registry package maps driver names to them.
type Descriptor struct {
	// Name is the driver's name in a sensor entry ("tmp117"); Aliases
	// are accepted too ("max30101", "max30102").
	Name    string
	Aliases []string
	// Link is how the part is connected; Resolve checks an entry's bus
	// keys against it.
	Link Link
	// StuckAfter is how long identical raw values may repeat before the
	// part is taken as stuck, when the entry's stuck_after is 0.
	StuckAfter time.Duration
	// NewSettings returns the part's options with their defaults, into
	// which an entry's options: mapping is decoded (yaml tags, unknown
	// keys refused). Nil: the part takes no options.
	NewSettings func() Settings
	// Source checks what is specific to the part (rate, options against
	// each other) in an entry whose link, name and settings are already
	// checked and filled, and returns what the part delivers and how to
	// open it. Errors are *KeyError.
	Source func(c Config) (Source, error)
}

// Settings are a part's options, as decoded from an entry's options:
// mapping.
type Settings interface {
	// Check validates the options; a problem is a *KeyError whose key is
	// the option's ("averaging").
	Check() error
}

// Source is one configured sensor: what it delivers and how to open it.
type Source struct {
	Kind    Kind
	Streams []Stream
	// Rate is the rate of the samples delivered, per second.
	Rate float64
	// Paced: the device's Read waits for its data (a data-ready line, a
	// serial stream); otherwise the sampler reads it on its tick.
	Paced bool
	// Loss names the technical condition of the samples the part
	// reports lost (LossOverflow or LossFrames).
	Loss string
	// Open opens the part on the given buses. It may be called again
	// after a fault closed the device.
	Open func(b Buses) (Device, error)
}

// Device is an open sensor part, read by acquisition's sampling loop.
type Device interface {
	// Read appends the samples the part has to blocks (one per stream,
	// in the order of Source.Streams); samples the part reports lost are
	// appended invalid where they were lost. now is the sampler's
	// monotonic clock. An error means the device must be closed and
	// reopened.
	Read(blocks []Block, now time.Duration) (Status, error)
	// Close halts the part and releases its bus.
	Close() error
}

// Status reports the in-band troubles of one Read.
type Status struct {
	Lost  int  // samples the part lost (FIFO overflow, dropped frames)
	Bad   int  // frames dropped for a bad checksum
	Stuck bool // raw values repeated for longer than stuck_after
	// Uncounted: the part lost more samples than it could count (the
	// MAX3010x overflow counter stops at 31). The sampler then takes the
	// number from its clock and puts the missing slots, invalid, at
	// index UncountedAt of the read's blocks.
	Uncounted   bool
	UncountedAt int
}

// AppendInvalid appends n lost samples (see Lost) to every block.
func AppendInvalid(blocks []Block, n int) {
	for i := range blocks {
		for range n {
			blocks[i].Append(math.NaN(), false)
		}
	}
}
