package yoctolayer

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// unit is a systemd unit file: section -> key -> values (keys may repeat).
type unit map[string]map[string][]string

// parseUnit reads a unit file as systemd's INI dialect: [Section] headers,
// Key=Value lines, # and ; comments, backslash continuations. Anything else
// is an error, as is a key outside a section.
func parseUnit(path string) (unit, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	u := unit{}
	section := ""
	sc := bufio.NewScanner(f)
	n, cont := 0, ""
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if cont == "" && (line == "" || line[0] == '#' || line[0] == ';') {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			cont += strings.TrimSuffix(line, `\`) + " "
			continue
		}
		line, cont = cont+line, ""
		if strings.HasPrefix(line, "[") {
			if !strings.HasSuffix(line, "]") || len(line) < 3 {
				return nil, fmt.Errorf("%s:%d: bad section header %q", path, n, line)
			}
			section = line[1 : len(line)-1]
			if _, dup := u[section]; dup {
				return nil, fmt.Errorf("%s:%d: section [%s] twice", path, n, section)
			}
			u[section] = map[string][]string{}
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t[]") {
			return nil, fmt.Errorf("%s:%d: not Key=Value: %q", path, n, line)
		}
		if section == "" {
			return nil, fmt.Errorf("%s:%d: %s outside a section", path, n, k)
		}
		u[section][k] = append(u[section][k], strings.TrimSpace(v))
	}
	return u, sc.Err()
}

// get returns the last value of section.key ("" if unset).
func (u unit) get(section, key string) string {
	v := u[section][key]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}
