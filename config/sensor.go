package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"medagent/sensors"
	"medagent/sensors/registry"
)

// check validates one sensor entry through its descriptor; key is
// "sensors[i]".
func checkSensor(c *checker, key string, s sensors.Config) {
	if strings.HasPrefix(s.Driver, "sim-") {
		c.add(key+".driver", "the %s generator is gone: every simulated sensor runs its real driver on bus sim, e.g. {driver: ads1292, bus: sim, drdy: sim:ads-drdy, spi_mode: 1}", s.Driver)
		return
	}
	_, err := registry.Resolve(s)
	c.component(key, err)
}

// sensorSettings returns a fresh options value for the sensor entry being
// decoded (v), of the type its driver's descriptor takes, or explains why
// there is none.
func sensorSettings(v reflect.Value) (any, error) {
	s, ok := v.Addr().Interface().(*sensors.Config)
	if !ok {
		return nil, fmt.Errorf("no options here")
	}
	d, ok := registry.Lookup(s.Driver)
	switch {
	case s.Driver == "":
		return nil, errors.New("options need the entry's driver: key")
	case !ok:
		return nil, fmt.Errorf("unknown driver %q (known: %s)", s.Driver, registry.Known())
	case d.NewSettings == nil:
		return nil, fmt.Errorf("the %s takes no options", d.Name)
	}
	return d.NewSettings(), nil
}
