package senml

import "fmt"

// validName reports whether every byte of s is allowed in a SenML name
// (RFC 8428 §4.5.1: A-Z a-z 0-9 - : . / _).
func validName(s string) bool {
	for i := 0; i < len(s); i++ {
		if !nameChar(s[i]) {
			return false
		}
	}
	return true
}

func nameChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == ':' || c == '.' || c == '/' || c == '_'
}

func alnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// checkName checks the resolved name base+name. It allocates only on error.
func checkName(base, name string) error {
	if !validName(base) {
		return fmt.Errorf("senml: base name %q: only A-Z a-z 0-9 - : . / _ are allowed", base)
	}
	if !validName(name) {
		return fmt.Errorf("senml: name %q: only A-Z a-z 0-9 - : . / _ are allowed", name)
	}
	var first byte
	switch {
	case base != "":
		first = base[0]
	case name != "":
		first = name[0]
	default:
		return fmt.Errorf("senml: empty name")
	}
	if !alnum(first) {
		return fmt.Errorf("senml: name %q: must start with a letter or digit", base+name)
	}
	return nil
}
