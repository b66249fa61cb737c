// Command alarms is the alarm bench of the ECG stage (make bench-alarms).
// It splices episodes into MIT-BIH records with edge/ecg/ecgtest, replays
// them through the same path as `medagent replay --vitals` (the agent's
// pipeline with the default alarm configuration), reads the lines back and
// prints per case:
//
//   - asystole: 12 s of flat line (0.03 and 0.1 mV RMS noise) spliced into
//     sinus records three times each; seconds from the splice (and from
//     the last real beat) to the high-priority asystole alarm;
//
//   - noise: 60 s of 0.6 mV RMS noise (white, muscle-like, the Noise
//     Stress Test's muscle artefact "ma" and electrode motion "em"), in
//     place of the ECG and added to it; physiological alarms raised during
//     the episode and 10 s after, seconds of implausible heart rate shown,
//     and the time to the technical alarm "ECG noise / artefact";
//
//   - pause: a 3.5 s and a 5.9 s pause; time to the pause and asystole
//     alarms;
//
//   - sinus: every record as it is; physiological raises (per 30 min);
//
//   - drift: every record with the low heart-rate limit set at its own
//     median rate, the worst case for chatter; raises of that alarm;
//
//   - nstdb: the noise stress records 118e00/12/24 as they are;
//
//   - robust: the held-out check on every record (or -records), with
//     episodes at random (seeded) positions, spliced cross-faded and hard,
//     and noise of five kinds (robust.go); the worst case per criterion.
//
//     go run ./bench/alarms [-mitdb ../shared/data/mitdb] [-nstdb ../shared/data/nstdb] [-cases asystole,noise,...]
//
// The full records are not in the repository (see README "Data"); the test
// of this command runs it on the carried excerpts.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"medagent/edge/alarm"
	"medagent/edge/ecg/ecgtest"
)

func main() {
	if err := run(os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bench/alarms:", err)
		os.Exit(1)
	}
}

// sinusRecords are the shared DS1 records in sinus rhythm (with ectopic
// beats) used for splicing.
var sinusRecords = []string{"101", "112", "115", "116", "118", "122", "220", "230"}

type bench struct {
	out          io.Writer
	mitdb, nstdb string
	recs         []string // records to splice into
	all          []string // every record for sinus and drift
	robustRecs   []string // records for robust: all unless -records is given
	kinds        []string // noise kinds for robust
	cache        map[string]*record
	write        string // directory for the spliced records, "" for none
}

func run(out io.Writer, args []string) error {
	fs := flag.NewFlagSet("bench/alarms", flag.ContinueOnError)
	mitdb := fs.String("mitdb", filepath.Join("..", "shared", "data", "mitdb"), "directory of MIT-BIH Arrhythmia Database records")
	nstdb := fs.String("nstdb", filepath.Join("..", "shared", "data", "nstdb"), "directory of Noise Stress Test records (ma, 118e00 ...)")
	recs := fs.String("records", strings.Join(sinusRecords, ","), "records to splice episodes into")
	cases := fs.String("cases", "asystole,noise,pause,sinus,drift,nstdb,robust", "cases to run")
	kinds := fs.String("noise-kinds", "white,muscle,ma,em,bw", "noise kinds of the robust case")
	write := fs.String("write", "", "also write every spliced signal as a WFDB record into `dir` (for medagent replay --vitals)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	heas, _ := filepath.Glob(filepath.Join(*mitdb, "*.hea"))
	if len(heas) == 0 {
		return fmt.Errorf("no MIT-BIH records in %s: get the MIT-BIH Arrhythmia Database from https://physionet.org/content/mitdb/ and give its directory with -mitdb (make bench-alarms MITDB=DIR)", *mitdb)
	}
	b := &bench{out: out, mitdb: *mitdb, nstdb: *nstdb, cache: map[string]*record{}, write: *write}
	for _, h := range heas {
		b.all = append(b.all, strings.TrimSuffix(filepath.Base(h), ".hea"))
	}
	sort.Strings(b.all)
	for _, r := range strings.Split(*recs, ",") {
		if slices.Contains(b.all, r) {
			b.recs = append(b.recs, r)
		}
	}
	if len(b.recs) == 0 {
		b.recs = b.all
	}
	b.robustRecs = b.all
	b.kinds = strings.Split(*kinds, ",")
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "records" {
			b.robustRecs = b.recs
		}
	})
	for _, c := range strings.Split(*cases, ",") {
		var err error
		switch c {
		case "asystole":
			err = b.asystole()
		case "noise":
			err = b.noise()
		case "pause":
			err = b.pause()
		case "sinus":
			err = b.sinus()
		case "drift":
			err = b.drift()
		case "nstdb":
			err = b.nst()
		case "robust", "robust-asystole", "robust-noise":
			parts := c // robust-asystole or robust-noise: that part alone
			if c == "robust" {
				parts = "asystole noise"
			}
			err = b.robust(parts)
		default:
			err = fmt.Errorf("unknown case %q", c)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// rec loads a record (or its carried excerpt, x_NAME) once.
func (b *bench) rec(dir, name string) (*record, error) {
	key := filepath.Join(dir, name)
	if r := b.cache[key]; r != nil {
		return r, nil
	}
	r, err := load(key)
	if errors.Is(err, os.ErrNotExist) {
		r, err = load(filepath.Join(dir, "x_"+name))
	}
	if err != nil {
		return nil, err
	}
	b.cache[key] = r
	return r, nil
}

// offsets are where episodes go: three spread over the record, at least
// 60 s from its start.
func offsets(r *record, dur float64) []float64 {
	total := float64(len(r.x)) / r.rate
	if total < 3*dur+120 {
		return []float64{math.Max(60, total/2-dur/2)}
	}
	return []float64{total * 0.2, total * 0.5, total * 0.8}
}

// first returns the second of the first event matching at or after from
// (-1 if none).
func first(secs []second, from float64, match func(event) bool) float64 {
	for _, s := range secs {
		if float64(s.t) < from {
			continue
		}
		for _, e := range s.alarms {
			if match(e) {
				return float64(s.t)
			}
		}
	}
	return -1
}

func raised(stream, cond string) func(event) bool {
	return func(e event) bool { return e.what == "raised" && e.stream == stream && e.cond == cond }
}

func (b *bench) asystole() error {
	fmt.Fprintf(b.out, "\n== asystole: 12 s flat line spliced 3 times into each record; seconds to the high-priority alarm (goal <= 6, held-out limit 8) ==\n")
	fmt.Fprintf(b.out, "%-8s %-6s %-26s %-26s %s\n", "record", "noise", "from splice start", "from last real beat", "other physiological raises")
	var worst float64
	for _, name := range b.recs {
		r, err := b.rec(b.mitdb, name)
		if err != nil {
			return err
		}
		for _, noise := range []float64{0.03, 0.1} {
			x := r.x
			offs := offsets(r, 12)
			for k, at := range offs {
				x = ecgtest.Asystole(x, r.rate, at, 12, noise, uint64(k+1))
			}
			if err := b.save(fmt.Sprintf("%s_asystole_%03.0f", name, noise*1000), r, x); err != nil {
				return err
			}
			secs, err := vitals(x, r.ok, r.rate, alarm.Defaults())
			if err != nil {
				return err
			}
			var fromSplice, fromBeat []string
			others := 0
			for _, at := range offs {
				t := first(secs, at, raised("hr", "asystole"))
				if t < 0 || t > at+12 {
					fromSplice = append(fromSplice, "none")
					fromBeat = append(fromBeat, "none")
					worst = math.Inf(1)
					continue
				}
				fromSplice = append(fromSplice, fmt.Sprintf("%.0f", t-at))
				fromBeat = append(fromBeat, fmt.Sprintf("%.1f", t-r.lastRefBefore(at)))
				worst = math.Max(worst, t-at)
				for _, s := range secs {
					if float64(s.t) >= at && float64(s.t) <= at+12 {
						for _, e := range s.alarms {
							if e.what == "raised" && e.physiological() && e.cond != "asystole" && e.cond != "pause" {
								others++
							}
						}
					}
				}
			}
			fmt.Fprintf(b.out, "%-8s %-6.2f %-26s %-26s %d\n", name, noise, strings.Join(fromSplice, " "), strings.Join(fromBeat, " "), others)
		}
	}
	fmt.Fprintf(b.out, "worst: %.0f s from the splice start\n", worst)
	return nil
}

// noiseSource returns 60 s of 0.6 mV RMS noise of a kind, or nil when its
// record is missing.
func (b *bench) noiseSource(kind string, rate float64, seed uint64) ([]float64, error) {
	const dur, rms = 60.0, 0.6
	switch kind {
	case "white":
		return ecgtest.Noise(ecgtest.White, rate, dur, rms, seed), nil
	case "muscle":
		return ecgtest.Noise(ecgtest.Muscle, rate, dur, rms, seed), nil
	case "ma":
		ma, err := b.rec(b.nstdb, "ma")
		if err != nil {
			return nil, nil
		}
		n := int(dur * rate)
		off := int(seed) * n % max(1, len(ma.x)-n)
		return ecgtest.Scale(ma.x[off:off+n], rms), nil
	case "em":
		// The electrode motion of the Noise Stress Test: 118e00 minus 118,
		// in its noisy stretches (from 300 s, 120 s on, 120 s off).
		e, err1 := b.rec(b.nstdb, "118e00")
		c, err2 := b.rec(b.mitdb, "118")
		if err1 != nil || err2 != nil {
			return nil, nil
		}
		n := int(dur * rate)
		from := int((300 + 240*float64(seed%3)) * rate)
		if from+n > len(e.x) {
			return nil, nil
		}
		seg := make([]float64, n)
		for i := range seg {
			seg[i] = e.x[from+i] - c.x[from+i]
		}
		return ecgtest.Scale(seg, rms), nil
	}
	return nil, fmt.Errorf("noise kind %q", kind)
}

func (b *bench) noise() error {
	fmt.Fprintf(b.out, "\n== noise: 60 s of 0.6 mV RMS noise; physiological raises during it (+10 s), seconds of implausible HR shown (held-out limit 3), seconds to the noise alarm (limit 10) ==\n")
	fmt.Fprintf(b.out, "%-8s %-8s %-8s %10s %12s %12s %12s\n", "record", "noise", "mode", "phys", "implaus_s", "longest_s", "tech_alarm")
	for _, name := range b.recs {
		r, err := b.rec(b.mitdb, name)
		if err != nil {
			return err
		}
		for _, kind := range []string{"white", "muscle", "ma", "em"} {
			for _, mode := range []string{"replace", "add"} {
				x := r.x
				offs := offsets(r, 60)
				var eps [][]float64
				for k, at := range offs {
					nz, err := b.noiseSource(kind, r.rate, uint64(k+1))
					if err != nil {
						return err
					}
					if nz == nil {
						break
					}
					eps = append(eps, nz)
					if mode == "replace" {
						x = ecgtest.ReplaceWith(x, r.rate, at, nz)
					} else {
						x = ecgtest.AddTo(x, r.rate, at, nz)
					}
				}
				if len(eps) < len(offs) {
					continue // no such noise record
				}
				if err := b.save(fmt.Sprintf("%s_%s_%s", name, kind, mode), r, x); err != nil {
					return err
				}
				secs, err := vitals(x, r.ok, r.rate, alarm.Defaults())
				if err != nil {
					return err
				}
				var phys, implaus, longest []string
				var techs []string
				for _, at := range offs {
					p, n, l := noiseScore(r, secs, at, 60, mode == "replace")
					phys, implaus, longest = append(phys, fmt.Sprint(p)), append(implaus, fmt.Sprint(n)), append(longest, fmt.Sprint(l))
					t := first(secs, at, func(e event) bool { return e.what == "raised" && !e.physiological() })
					if t < 0 || t > at+60 {
						techs = append(techs, "none")
					} else {
						techs = append(techs, fmt.Sprintf("%.0f", t-at))
					}
				}
				fmt.Fprintf(b.out, "%-8s %-8s %-8s %10s %12s %12s %12s\n", name, kind, mode, strings.Join(phys, ","), strings.Join(implaus, ","), strings.Join(longest, ","), strings.Join(techs, ","))
			}
		}
	}
	return nil
}

// noiseScore counts, for a noise episode [at, at+dur): physiological
// raises from its start to 10 s after it, seconds with an implausible heart
// rate shown (any rate while the ECG is replaced; a rate off the reference
// by more than 10 % and 5 /min while noise is added), and the longest run
// of such seconds.
func noiseScore(r *record, secs []second, at, dur float64, replaced bool) (phys, implausible, longest int) {
	run := 0
	for _, s := range secs {
		t := float64(s.t)
		if t < at || t > at+dur+10 {
			continue
		}
		for _, e := range s.alarms {
			if e.what == "raised" && e.physiological() {
				phys++
			}
		}
		if t > at+dur {
			continue
		}
		bad := false
		if s.hr > 0 {
			ref := r.refHR(t)
			bad = replaced || ref == 0 || math.Abs(s.hr-ref) > math.Max(0.1*ref, 5)
		}
		if bad {
			implausible++
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return phys, implausible, longest
}

func (b *bench) pause() error {
	fmt.Fprintf(b.out, "\n== pause: one beat followed by a 3.5 s and, later, a 5.9 s pause; seconds from the last beat to the pause (medium) and asystole (high) alarms ==\n")
	fmt.Fprintf(b.out, "%-8s %-14s %-14s %-14s %-14s\n", "record", "3.5s pause", "3.5s asystole", "5.9s pause", "5.9s asystole")
	for _, name := range b.recs {
		r, err := b.rec(b.mitdb, name)
		if err != nil {
			return err
		}
		if len(r.ref) < 100 {
			continue
		}
		x := r.x
		at := map[float64]float64{} // pause length: its last beat, s
		for _, p := range []struct {
			frac, dur float64
		}{{0.6, 3.5}, {0.3, 5.9}} { // the later one first: the earlier one shifts what follows it
			k := int(p.frac * float64(len(r.ref)))
			x = ecgtest.Pause(x, r.rate, int(r.ref[k]), int(r.ref[k+1]), p.dur)
			at[p.dur] = float64(r.ref[k]) / r.rate
			if p.dur == 5.9 {
				// It shifted the later pause by what it added.
				at[3.5] += p.dur - float64(r.ref[k+1]-r.ref[k])/r.rate
			}
		}
		if err := b.save(name+"_pause", r, x); err != nil {
			return err
		}
		secs, err := vitals(x, r.ok, r.rate, alarm.Defaults())
		if err != nil {
			return err
		}
		cell := func(from float64, cond string, within float64) string {
			t := first(secs, from, raised("hr", cond))
			if t < 0 || t > from+within {
				return "none"
			}
			return fmt.Sprintf("%.1f", t-from)
		}
		fmt.Fprintf(b.out, "%-8s %-14s %-14s %-14s %-14s\n", name, cell(at[3.5], "pause", 8), cell(at[3.5], "asystole", 8), cell(at[5.9], "pause", 10), cell(at[5.9], "asystole", 10))
	}
	return nil
}

// raises counts physiological raises by condition.
func raises(secs []second) (int, map[string]int) {
	n, by := 0, map[string]int{}
	for _, s := range secs {
		for _, e := range s.alarms {
			if e.what == "raised" && e.physiological() {
				n++
				by[e.stream+":"+e.cond]++
			}
		}
	}
	return n, by
}

func (b *bench) sinus() error {
	fmt.Fprintf(b.out, "\n== records as they are: physiological raises in 30 min (held-out limit 6 on sinus records), technical raises, seconds with the HR shown ==\n")
	fmt.Fprintf(b.out, "%-8s %6s %6s %8s  %s\n", "record", "phys", "tech", "hr_shown", "by condition")
	for _, name := range b.all {
		r, err := b.rec(b.mitdb, name)
		if err != nil {
			return err
		}
		secs, err := vitals(r.x, r.ok, r.rate, alarm.Defaults())
		if err != nil {
			return err
		}
		n, by := raises(secs)
		tech, shown := 0, 0
		for _, s := range secs {
			if s.hr > 0 {
				shown++
			}
			for _, e := range s.alarms {
				if e.what == "raised" && !e.physiological() {
					tech++
				}
			}
		}
		fmt.Fprintf(b.out, "%-8s %6d %6d %7.0f%%  %s\n", name, n, tech, 100*float64(shown)/float64(len(secs)), fmtBy(by))
	}
	return nil
}

func fmtBy(by map[string]int) string {
	var keys []string
	for k := range by {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, by[k]))
	}
	return strings.Join(parts, ", ")
}
