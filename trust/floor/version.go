package floor

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Version is a parsed release version.
type Version struct {
	Nums []uint64 // numeric components: 3.2.0 is [3 2 0]
	Pre  string   // pre-release ("rc1"), empty for a release
	text string
}

// ErrNoVersion: the text holds no version.
var ErrNoVersion = errors.New("no version (want digits such as 3.2.0)")

const maxText = 59 // what the NV layout holds

// Parse finds the version in s: the first run that starts with a digit.
func Parse(s string) (Version, error) {
	i := strings.IndexAny(s, "0123456789")
	if i < 0 {
		return Version{}, fmt.Errorf("floor: %q: %w", s, ErrNoVersion)
	}
	rest := s[i:]
	end := len(rest)
	for j, c := range rest {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '-' || c == '+') {
			end = j
			break
		}
	}
	rest = rest[:end]
	rest, _, _ = strings.Cut(rest, "+")
	core, pre, _ := strings.Cut(rest, "-")
	var v Version
	for _, p := range strings.Split(core, ".") {
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			break // "3.2.0rc1": stop at the first non-numeric component
		}
		v.Nums = append(v.Nums, n)
	}
	if len(v.Nums) == 0 || len(v.Nums) > 8 {
		return Version{}, fmt.Errorf("floor: %q: %w", s, ErrNoVersion)
	}
	v.Pre = pre
	v.text = v.canonical()
	if len(v.text) > maxText {
		return Version{}, fmt.Errorf("floor: %q: version longer than %d characters", s, maxText)
	}
	return v, nil
}

func (v Version) canonical() string {
	parts := make([]string, len(v.Nums))
	for i, n := range v.Nums {
		parts[i] = strconv.FormatUint(n, 10)
	}
	s := strings.Join(parts, ".")
	if v.Pre != "" {
		s += "-" + v.Pre
	}
	return s
}

// String is the canonical text ("3.2.0", "3.2.0-rc1").
func (v Version) String() string { return v.text }

// IsZero reports an unset version.
func (v Version) IsZero() bool { return len(v.Nums) == 0 }

// Compare returns -1, 0 or +1 as v is lower than, equal to or higher than w.
func (v Version) Compare(w Version) int {
	for i := 0; i < max(len(v.Nums), len(w.Nums)); i++ {
		var a, b uint64
		if i < len(v.Nums) {
			a = v.Nums[i]
		}
		if i < len(w.Nums) {
			b = w.Nums[i]
		}
		switch {
		case a < b:
			return -1
		case a > b:
			return 1
		}
	}
	switch {
	case v.Pre == w.Pre:
		return 0
	case v.Pre == "":
		return 1
	case w.Pre == "":
		return -1
	}
	return comparePre(v.Pre, w.Pre)
}

// comparePre orders pre-releases as Semantic Versioning does.
func comparePre(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < min(len(pa), len(pb)); i++ {
		x, errx := strconv.ParseUint(pa[i], 10, 64)
		y, erry := strconv.ParseUint(pb[i], 10, 64)
		switch {
		case errx == nil && erry == nil:
			if x != y {
				if x < y {
					return -1
				}
				return 1
			}
		case errx == nil:
			return -1
		case erry == nil:
			return 1
		default:
			if c := strings.Compare(pa[i], pb[i]); c != 0 {
				return c
			}
		}
	}
	switch {
	case len(pa) < len(pb):
		return -1
	case len(pa) > len(pb):
		return 1
	}
	return 0
}

// Of returns the version an artifact carries: its rootfs-image.version
// provide when that holds one, else its artifact_name.
func Of(name string, provides map[string]string) (Version, error) {
	if v, err := Parse(provides["rootfs-image.version"]); err == nil {
		return v, nil
	}
	v, err := Parse(name)
	if err != nil {
		return Version{}, fmt.Errorf("floor: artifact %q carries no version (rootfs-image.version or artifact_name such as release-3.2.0): %w", name, ErrNoVersion)
	}
	return v, nil
}
