package config

import (
	"regexp"
	"strconv"
	"strings"
)

var lineRe = regexp.MustCompile(`line (\d+)`)

// yamlLine digs the line number out of a yaml.v3 syntax error.
func yamlLine(err error) int {
	m := lineRe.FindStringSubmatch(err.Error())
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func yamlMsg(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	return lineRe.ReplaceAllString(s, "")
}
