package yoctolayer

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// recipe is a BitBake file reduced to what the checks need.
type recipe struct {
	path    string
	vars    map[string]string // last plain assignment, appends joined
	inherit []string
}

var (
	assignRE  = regexp.MustCompile(`^(export\s+)?([A-Za-z0-9_${}\-./+~]+(?::[A-Za-z0-9_${}\-./+~]+)*)(\[[A-Za-z0-9_\-.]+\])?\s*(\?\?=|\?=|:=|\+=|=\+|\.=|=\.|=)\s*(.*)$`)
	funcRE    = regexp.MustCompile(`^(python\s+)?(fakeroot\s+)?[A-Za-z0-9_${}\-.:]+\s*\(\)\s*\{$`)
	keywordRE = regexp.MustCompile(`^(inherit|include|require|addtask|deltask|addhandler|EXPORT_FUNCTIONS|inherit_defer)\s+\S`)
)

// parseBitBake checks the syntax of a .bb, .bbappend or .conf file the way
// BitBake's parser splits it: logical lines (backslash continuations),
// comments, assignments with double- or single-quoted values, keywords and
// shell or python functions closed by a lone "}".
func parseBitBake(path string) (*recipe, []error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, []error{err}
	}
	defer f.Close()
	r := &recipe{path: path, vars: map[string]string{}}
	var errs []error
	sc := bufio.NewScanner(f)
	lineNo, inFunc, logical, start := 0, false, "", 0
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		if inFunc {
			if line == "}" {
				inFunc = false
			}
			continue
		}
		if logical == "" {
			start = lineNo
		}
		if strings.HasSuffix(line, `\`) {
			logical += strings.TrimSuffix(line, `\`) + " "
			continue
		}
		logical += line
		l := strings.TrimSpace(logical)
		logical = ""
		switch {
		case l == "" || strings.HasPrefix(l, "#"):
		case funcRE.MatchString(l):
			inFunc = true
		case keywordRE.MatchString(l):
			if strings.HasPrefix(l, "inherit ") {
				r.inherit = append(r.inherit, strings.Fields(l)[1:]...)
			}
		default:
			m := assignRE.FindStringSubmatch(l)
			if m == nil {
				errs = append(errs, fmt.Errorf("%s:%d: not an assignment, keyword or function: %q", path, start, l))
				continue
			}
			v := m[5]
			if len(v) < 2 || (v[0] != '"' && v[0] != '\'') || v[len(v)-1] != v[0] || strings.Count(v, string(v[0]))%2 != 0 {
				errs = append(errs, fmt.Errorf("%s:%d: value of %s is not one quoted string: %s", path, start, m[2], v))
				continue
			}
			name, val := m[2], v[1:len(v)-1]
			if m[3] != "" {
				name += m[3]
			}
			switch m[4] {
			case "+=", ".=":
				r.vars[name] = strings.TrimSpace(r.vars[name] + " " + val)
			case "?=", "??=":
				if _, ok := r.vars[name]; !ok {
					r.vars[name] = val
				}
			default:
				r.vars[name] = val
			}
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, err)
	}
	if inFunc {
		errs = append(errs, fmt.Errorf("%s: function not closed by a lone }", path))
	}
	if logical != "" {
		errs = append(errs, fmt.Errorf("%s: file ends in a line continuation", path))
	}
	return r, errs
}

// fileURIs returns the file:// entries of SRC_URI (and its appends).
func (r *recipe) fileURIs() []string {
	var out []string
	for name, v := range r.vars {
		if name != "SRC_URI" && !strings.HasPrefix(name, "SRC_URI:") {
			continue
		}
		for _, f := range strings.Fields(v) {
			if p, ok := strings.CutPrefix(f, "file://"); ok {
				out = append(out, strings.SplitN(p, ";", 2)[0])
			}
		}
	}
	return out
}

// missingFiles returns the SRC_URI file:// names not found where BitBake's
// FILESPATH looks by default: files/, ${BPN}/, ${BP}/ beside the recipe.
func (r *recipe) missingFiles() []error {
	dir := filepath.Dir(r.path)
	base := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(r.path), ".bbappend"), ".bb")
	bpn := strings.SplitN(base, "_", 2)[0]
	var errs []error
	for _, f := range r.fileURIs() {
		found := false
		for _, d := range []string{"files", bpn, base} {
			if _, err := os.Stat(filepath.Join(dir, d, f)); err == nil {
				found = true
				break
			}
		}
		if !found {
			errs = append(errs, fmt.Errorf("%s: SRC_URI file://%s not found in files/, %s/ or %s/", r.path, f, bpn, base))
		}
	}
	return errs
}
