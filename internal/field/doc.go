// Package field is the error of one configuration key. A component that
// owns its options (YAML tags, defaults, Check) reports a bad value as a
// *field.Error with the key relative to its section; package config adds
// the section and the file and line where the key was written.
package field
