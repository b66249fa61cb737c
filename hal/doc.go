// Package hal is medagent's hardware abstraction layer: it initialises the
// periph.io host drivers once, opens I²C buses, SPI ports, GPIO lines and
// serial ports by the names a sensor configuration gives, and maps Linux
// errno values to medagent/hal/buserr sentinels so errors name the device
// path and what is wrong (missing, permission denied, busy, NACK,
// timeout, wrong mode).
//
// The bus name "sim" (and GPIO names "sim:NAME") select register-level
// simulators from a Sim instead of hardware, so the demo and the QEMU image
// run the real drivers against simulated chips.
//
// I²C uses Linux i2c-dev directly (I2C_RDWR ioctl) rather than periph's
// sysfs bus, because periph formats the errno into a string and the agent
// needs ENXIO/EREMOTEIO (NACK) and ETIMEDOUT as typed errors. SPI and GPIO
// use periph.io/x/host/v3 (kernel interfaces only: gpioioctl, sysfs/spidev);
// serial ports use go.bug.st/serial.
//
// SensorConfig is the YAML shape of one sensor entry; the agent decodes
// the file strictly and calls Validate.
package hal
