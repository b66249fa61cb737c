// Package temp smooths body-temperature readings and checks that they are
// plausible.
//
// Readings come in one at a time with their time from a temperature sensor
// (a TMP117 or the simulator, about once a second, in °C) and go out as a
// Reading: the smoothed value, whether it may be shown and alarmed on, and
// which check failed. The package never reads a clock.
//
// Checks, in order, for each reading:
//
//   - not finite, marked invalid by the driver, or not later than the
//     previous reading: Invalid;
//   - outside Config.Min..Config.Max (25–45 °C by default; a probe in room
//     air or a short circuit): OutOfRange;
//   - identical (within Config.StuckTolerance) to the readings of the last
//     Config.StuckAfter (10 min by default): Stuck, a sensor fault — a body
//     temperature read at the resolution of a TMP117 (7.8 m°C) always
//     moves a little, a frozen register or bus does not;
//   - changing faster than Config.MaxRate from the last accepted reading
//     (6 °C/min by default, far beyond physiology, plus Config.Jitter, 0.2 °C, for
//     sensor noise): RateLimited, the reading
//     is dropped as a spike. Config.Rejoin readings in a row that agree with
//     each other but not with the old level are a real step (the probe was
//     moved) and restart the smoothing at the new level.
//
// Accepted readings go through a median of the last Config.Median readings
// (removes single outliers) and then an exponential average with time
// constant Config.TimeConstant. After a gap of five time constants without
// an accepted reading, smoothing restarts.
package temp
