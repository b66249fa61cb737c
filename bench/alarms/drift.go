package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"sort"

	"medagent/edge/alarm"
)

func (b *bench) drift() error {
	fmt.Fprintf(b.out, "\n== drift: low HR limit at the record's own median rate (critical low 15 below); raises of hr:low in 30 min (limit 6) ==\n")
	fmt.Fprintf(b.out, "%-8s %8s %6s\n", "record", "limit", "raises")
	worst := 0
	for _, name := range b.all {
		r, err := b.rec(b.mitdb, name)
		if err != nil {
			return err
		}
		if len(r.ref) < 100 {
			continue
		}
		var hrs []float64
		for t := 30.0; t < float64(len(r.x))/r.rate; t += 10 {
			if h := r.refHR(t); h > 0 {
				hrs = append(hrs, h)
			}
		}
		sort.Float64s(hrs)
		cfg := alarm.Defaults()
		cfg.HR.Low = math.Round(hrs[len(hrs)/2])
		cfg.HR.CriticalLow = math.Max(1, cfg.HR.Low-15)
		if cfg.HR.Low+2*cfg.HR.Hysteresis >= cfg.HR.High {
			cfg.HR.High, cfg.HR.CriticalHigh = 0, 0
		}
		if err := cfg.Validate(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		secs, err := vitals(r.x, r.ok, r.rate, cfg)
		if err != nil {
			return err
		}
		_, by := raises(secs)
		worst = max(worst, by["hr:low"])
		fmt.Fprintf(b.out, "%-8s %8.0f %6d\n", name, cfg.HR.Low, by["hr:low"])
	}
	fmt.Fprintf(b.out, "worst: %d raises\n", worst)

	fmt.Fprintf(b.out, "\n== drift, default limits: each record slowed (resampled) so that its median rate is 51 /min, just above the low limit 50 (as MIT-BIH 117 and 123); physiological raises in its first 30 min (limit 6) ==\n")
	fmt.Fprintf(b.out, "%-8s %8s %8s %6s  %s\n", "record", "factor", "range", "raises", "by condition")
	worst = 0
	for _, name := range b.all {
		r, err := b.rec(b.mitdb, name)
		if err != nil {
			return err
		}
		if len(r.ref) < 100 {
			continue
		}
		med, lo, hi := rateStats(r)
		k := med / 51
		x, ok := stretch(r.x, r.ok, k, len(r.x))
		secs, err := vitals(x, ok, r.rate, alarm.Defaults())
		if err != nil {
			return err
		}
		n, by := raises(secs)
		worst = max(worst, n)
		fmt.Fprintf(b.out, "%-8s %8.2f %8s %6d  %s\n", name, k, fmt.Sprintf("%.0f-%.0f", lo/k, hi/k), n, fmtBy(by))
	}
	fmt.Fprintf(b.out, "worst: %d raises\n", worst)
	return nil
}

// rateStats returns the median and the 5th and 95th percentiles of the
// reference heart rate, sampled every 10 s.
func rateStats(r *record) (med, lo, hi float64) {
	var hrs []float64
	for t := 30.0; t < float64(len(r.x))/r.rate; t += 10 {
		if h := r.refHR(t); h > 0 {
			hrs = append(hrs, h)
		}
	}
	sort.Float64s(hrs)
	return hrs[len(hrs)/2], hrs[len(hrs)*5/100], hrs[len(hrs)*95/100]
}

// stretch slows x down by k (linear interpolation), keeping n samples.
func stretch(x []float64, ok []bool, k float64, n int) ([]float64, []bool) {
	y, yok := make([]float64, n), make([]bool, n)
	for i := range y {
		t := float64(i) / k
		j := int(t)
		if j+1 >= len(x) {
			return y[:i], yok[:i]
		}
		f := t - float64(j)
		y[i] = x[j]*(1-f) + x[j+1]*f
		yok[i] = ok[j] && ok[j+1]
	}
	return y, yok
}

func (b *bench) nst() error {
	fmt.Fprintf(b.out, "\n== noise stress test 118e*: noise from 300 s, 2 min on, 2 min off; physiological raises, noise alarm, share of seconds gated (quality < 0.5) in noisy and clean stretches, implausible-HR seconds ==\n")
	fmt.Fprintf(b.out, "%-8s %6s %6s %10s %10s %10s\n", "record", "phys", "tech", "gated_nz", "gated_cl", "implaus_s")
	for _, name := range []string{"118e00", "118e06", "118e12", "118e18", "118e24"} {
		r, err := b.rec(b.nstdb, name)
		if err == nil {
			name = r.name
		}
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		secs, err := vitals(r.x, r.ok, r.rate, alarm.Defaults())
		if err != nil {
			return err
		}
		n, _ := raises(secs)
		tech := 0
		var gn, nn, gc, nc, implaus int
		for _, s := range secs {
			for _, e := range s.alarms {
				if e.what == "raised" && !e.physiological() {
					tech++
				}
			}
			t := float64(s.t)
			ta := t + r.from // time in the whole record
			noisy := ta > 300 && int(ta-300)/120%2 == 0
			gated := s.q < 0.5
			if noisy {
				nn++
				if gated {
					gn++
				}
			} else if t > 30 {
				nc++
				if gated {
					gc++
				}
			}
			if ref := r.refHR(t); s.hr > 0 && ref > 0 && math.Abs(s.hr-ref) > math.Max(0.1*ref, 5) {
				implaus++
			}
		}
		fmt.Fprintf(b.out, "%-8s %6d %6d %9.0f%% %9.0f%% %10d\n", name, n, tech, pct(gn, nn), pct(gc, nc), implaus)
	}
	return nil
}

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}
