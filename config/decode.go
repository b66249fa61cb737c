package config

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Error is a configuration problem at one place in one file.
type Error struct {
	File string
	Line int    // 0 when the key is absent from the file
	Key  string // dotted path, e.g. "mqtt.inflight" or "sensors[1].rate"
	Msg  string
}

func (e *Error) Error() string {
	where := e.File
	if e.Line > 0 {
		where = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Key == "" {
		return fmt.Sprintf("%s: %s", where, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", where, e.Key, e.Msg)
}

// decoder walks a YAML node tree into a Go value, recording the line of
// every key so that later validation errors can point at it.
type decoder struct {
	file  string
	lines map[string]int
	// settings returns a pointer to a fresh value for an interface-typed
	// field of the struct v (a sensor's options: their type depends on
	// the entry's driver, so they are decoded after its other keys).
	settings func(v reflect.Value) (any, error)
}

var durationType = reflect.TypeOf(time.Duration(0))

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil
		}
		return d.decode(n.Content[0], v, path)
	}
	if n.Kind == yaml.AliasNode {
		return d.errf(n, path, "aliases are not allowed")
	}
	switch {
	case v.Kind() == reflect.Struct && v.Type() != reflect.TypeOf(time.Time{}):
		return d.decodeStruct(n, v, path)
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Struct:
		return d.decodeSlice(n, v, path)
	case v.Kind() == reflect.Map && v.Type().Key().Kind() == reflect.String:
		return d.decodeMap(n, v, path)
	}
	return d.decodeScalar(n, v, path)
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind != yaml.MappingNode {
		if n.Tag == "!!null" {
			return nil
		}
		return d.errf(n, path, "want a mapping of keys, got %s", describe(n))
	}
	fields := structFields(v.Type())
	seen := map[string]bool{}
	var later []int // indexes into n.Content of interface-typed fields
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := join(path, k.Value)
		if k.Kind != yaml.ScalarNode {
			return d.errf(k, path, "keys must be plain names")
		}
		if seen[k.Value] {
			return d.errf(k, key, "duplicate key")
		}
		seen[k.Value] = true
		idx, ok := fields[k.Value]
		if !ok {
			return d.errf(k, key, "unknown key (known: %s)", knownKeys(fields))
		}
		d.lines[key] = k.Line
		if v.FieldByIndex(idx).Kind() == reflect.Interface {
			later = append(later, i)
			continue
		}
		if err := d.decode(val, v.FieldByIndex(idx), key); err != nil {
			return err
		}
	}
	for _, i := range later {
		k, val := n.Content[i], n.Content[i+1]
		key := join(path, k.Value)
		if val.Tag == "!!null" {
			continue
		}
		target, err := d.settings(v)
		if err != nil {
			return d.errf(k, key, "%v", err)
		}
		if err := d.decode(val, reflect.ValueOf(target).Elem(), key); err != nil {
			return err
		}
		v.FieldByIndex(fields[k.Value]).Set(reflect.ValueOf(target))
	}
	return nil
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind != yaml.SequenceNode {
		if n.Tag == "!!null" {
			return nil
		}
		return d.errf(n, path, "want a list, got %s", describe(n))
	}
	out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		key := fmt.Sprintf("%s[%d]", path, i)
		d.lines[key] = item.Line
		if err := d.decode(item, out.Index(i), key); err != nil {
			return err
		}
	}
	v.Set(out)
	return nil
}

// decodeMap decodes a mapping of free-form keys (sensor options) whose
// values are scalars; the keys are checked by the validation.
func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind != yaml.MappingNode {
		if n.Tag == "!!null" {
			return nil
		}
		return d.errf(n, path, "want a mapping of keys, got %s", describe(n))
	}
	out := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return d.errf(k, path, "keys must be plain names")
		}
		key := join(path, k.Value)
		if out.MapIndex(reflect.ValueOf(k.Value)).IsValid() {
			return d.errf(k, key, "duplicate key")
		}
		d.lines[key] = k.Line
		e := reflect.New(v.Type().Elem()).Elem()
		if err := d.decode(val, e, key); err != nil {
			return err
		}
		out.SetMapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key()), e)
	}
	v.Set(out)
	return nil
}

func (d *decoder) decodeScalar(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind == yaml.MappingNode || (n.Kind == yaml.SequenceNode && v.Kind() != reflect.Slice) {
		return d.errf(n, path, "want %s, got %s", want(v.Type()), describe(n))
	}
	if v.Type() == durationType && n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		return d.errf(n, path, "want a duration with a unit such as 500ms, 2s or 1m, got %q", n.Value)
	}
	p := reflect.New(v.Type())
	if err := n.Decode(p.Interface()); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return d.errf(n, path, "want %s, got %s", want(v.Type()), describe(n))
		}
		return d.errf(n, path, "%v", err)
	}
	v.Set(p.Elem())
	return nil
}

func (d *decoder) errf(n *yaml.Node, key, format string, args ...any) error {
	return &Error{File: d.file, Line: n.Line, Key: key, Msg: fmt.Sprintf(format, args...)}
}

// structFields maps the YAML keys of a struct to the index paths of their
// fields; the fields of an embedded struct tagged ",inline" (a
// component's own Options inside a section) are keys of the section.
func structFields(t reflect.Type) map[string][]int {
	m := map[string][]int{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if f.Anonymous && opts == "inline" && f.Type.Kind() == reflect.Struct {
			for k, idx := range structFields(f.Type) {
				m[k] = append([]int{i}, idx...)
			}
			continue
		}
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		m[name] = []int{i}
	}
	return m
}

func knownKeys(fields map[string][]int) string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return fmt.Sprintf("%q", n.Value)
}

func want(t reflect.Type) string {
	if t == durationType {
		return "a duration such as 500ms, 2s or 1m"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "a list of " + want(t.Elem()) + "s"
	}
	return t.String()
}
