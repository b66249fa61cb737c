// Package hal is medagent's hardware abstraction layer: it initialises the
// periph.io host drivers once, opens I²C buses, SPI ports, GPIO lines and
// serial ports by name, and maps Linux errno values to medagent/hal/buserr
// sentinels so errors name the device path and what is wrong (missing,
// permission denied, busy, NACK, timeout, wrong mode). It knows no sensor
// part: the parts (sensors/<chip>) take what it opens (the import-rule
// test pins that hal imports no sensor package).
//
// I²C uses Linux i2c-dev directly (I2C_RDWR ioctl) rather than periph's
// sysfs bus, because periph formats the errno into a string and the agent
// needs ENXIO/EREMOTEIO (NACK) and ETIMEDOUT as typed errors. SPI and GPIO
// use periph.io/x/host/v3 (kernel interfaces only: gpioioctl, sysfs/spidev);
// serial ports use go.bug.st/serial. SerialFraming is the YAML shape of a
// serial line's framing.
package hal
