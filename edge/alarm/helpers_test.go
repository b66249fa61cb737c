package alarm

import "math"

func nanf() float64 { return math.NaN() }
