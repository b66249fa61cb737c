package jsonkeys

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

var cases = []struct {
	name, in string
	fields   []string
	msg      string // "" means accepted
}{
	{"flat", `{"a":1,"b":"x"}`, nil, ""},
	{"nested", `{"a":{"a":1},"b":[{"a":1},{"a":2}]}`, nil, ""},
	{"same key in sibling objects", `[{"k":1},{"k":2}]`, nil, ""},
	{"value equal to a key", `{"k":"k","j":"k"}`, nil, ""},
	{"duplicate", `{"a":1,"a":2}`, nil, `duplicate key "a"`},
	{"duplicate after object value", `{"a":{"x":1},"b":[1,2],"a":3}`, nil, `duplicate key "a"`},
	{"duplicate nested", `{"o":{"k":1,"k":1}}`, nil, `duplicate key "k"`},
	{"case variants", `{"device":"a","DEVICE":"b"}`, nil, `differ only in case`},
	{"kelvin sign", "{\"k\":1,\"\u212a\":2}", nil, `differ only in case`},
	{"field in other case", `{"Device":"a"}`, []string{"device"}, `the field is "device"`},
	{"field exact", `{"device":"a"}`, []string{"device"}, ""},
	{"deep", strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth), nil, ""},
	{"too deep", strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), nil, "nested deeper"},
	{"bomb", `{"a":` + strings.Repeat("[", 200000), nil, "nested deeper"},
	{"not json", `{"a":`, nil, ""},
	{"escaped duplicate", `{"a":1,"\u0061":2}`, nil, `duplicate key "a"`},
}

func TestCheck(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Check([]byte(tc.in), tc.fields...)
			switch {
			case tc.msg == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.msg != "" && (err == nil || !errors.Is(err, ErrKeys) || !strings.Contains(err.Error(), tc.msg)):
				t.Fatalf("error %v, want ErrKeys mentioning %q", err, tc.msg)
			}
		})
	}
}

// FuzzCheck: Check never panics, and whatever it accepts that
// encoding/json decodes into a map has no key that another key of the
// same object folds to.
func FuzzCheck(f *testing.F) {
	for _, tc := range cases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if Check(b) != nil {
			return
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(b, &m) != nil {
			return
		}
		seen := map[string]bool{}
		for k := range m {
			if seen[fold(k)] {
				t.Fatalf("accepted keys folding to %q", fold(k))
			}
			seen[fold(k)] = true
		}
	})
}

// TestFoldFastPath: the allocation-free path folds as the full one does.
func TestFoldFastPath(t *testing.T) {
	for _, s := range []string{"", "k", "s", "K", "\u212a", "\u017f", "device_type", "Device_Type", "a-b.c_9", "größe"} {
		if got, want := fold(s), strings.ToLower(strings.ToUpper(s)); got != want {
			t.Errorf("fold(%q) = %q, want %q", s, got, want)
		}
	}
}
