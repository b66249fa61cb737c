package hal

import (
	"fmt"
	"sync"

	"periph.io/x/host/v3"
)

var (
	initOnce sync.Once
	initErr  error
)

// Init loads the periph.io host drivers (GPIO chips, SPI ports) once per
// process. Drivers that find no hardware are not an error; a driver that
// fails to load is.
func Init() error {
	initOnce.Do(func() {
		st, err := host.Init()
		if err != nil {
			initErr = fmt.Errorf("hal: host init: %w", err)
			return
		}
		for _, f := range st.Failed {
			initErr = fmt.Errorf("hal: host driver %s failed: %w", f.D, f.Err)
			return
		}
	})
	return initErr
}
