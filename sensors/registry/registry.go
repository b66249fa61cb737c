package registry

import (
	"fmt"
	"slices"
	"strings"

	"medagent/sensors"
	"medagent/sensors/ads1292"
	"medagent/sensors/max3010x"
	"medagent/sensors/nonin"
	"medagent/sensors/tmp117"
)

// descriptors are the sensor parts medagent drives.
var descriptors = []*sensors.Descriptor{
	&ads1292.Descriptor,
	&max3010x.Descriptor,
	&nonin.Descriptor,
	&tmp117.Descriptor,
}

// Lookup returns the descriptor whose Name or one of whose Aliases is
// driver.
func Lookup(driver string) (*sensors.Descriptor, bool) {
	for _, d := range descriptors {
		if d.Name == driver || slices.Contains(d.Aliases, driver) {
			return d, true
		}
	}
	return nil, false
}

// All returns every descriptor, by name.
func All() []*sensors.Descriptor { return slices.Clone(descriptors) }

// Known lists the driver names for an error message:
// "ads1292 (ads1292r), max3010x (max30101, max30102), nonin, tmp117".
func Known() string {
	var b strings.Builder
	for i, d := range descriptors {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.Name)
		if len(d.Aliases) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(d.Aliases, ", "))
		}
	}
	return b.String()
}

// Resolve looks up the entry's driver and resolves the entry (see
// sensors.Descriptor.Resolve); an unknown driver is a *sensors.KeyError
// at "driver".
func Resolve(c sensors.Config) (sensors.Source, error) {
	d, ok := Lookup(c.Driver)
	if !ok {
		return sensors.Source{}, sensors.Bad("driver", "unknown driver %q (known: %s)", c.Driver, Known())
	}
	return d.Resolve(c)
}
