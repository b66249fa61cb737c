package control

import (
	"errors"
	"slices"
	"testing"
)

var requestCases = []struct {
	name, line string
	ok         bool
}{
	{"status", `{"v":1,"cmd":"status"}`, true},
	{"sensor", `{"v":1,"cmd":"sensor","name":"ecg"}`, true},
	{"ack", `{"v":1,"cmd":"ack","id":3}`, true},
	{"logs follow", `{"v":1,"cmd":"logs","since_ms":60000,"follow":true}`, true},
	{"watch", `{"v":1,"cmd":"watch","interval_ms":500}`, true},
	{"update status", `{"v":1,"cmd":"update","op":"status"}`, true},
	{"update install path", `{"v":1,"cmd":"update","op":"install","arg":"/data/a.mender"}`, true},
	{"update install url", `{"v":1,"cmd":"update","op":"install","arg":"https://u.example/a.mender"}`, true},
	{"update install relative", `{"v":1,"cmd":"update","op":"install","arg":"a.mender"}`, false},
	{"update install http", `{"v":1,"cmd":"update","op":"install","arg":"http://u.example/a.mender"}`, false},
	{"update commit with arg", `{"v":1,"cmd":"update","op":"commit","arg":"/x"}`, false},
	{"update unknown op", `{"v":1,"cmd":"update","op":"resume"}`, false},
	{"wrong version", `{"v":2,"cmd":"status"}`, false},
	{"no version", `{"cmd":"status"}`, false},
	{"unknown command", `{"v":1,"cmd":"reboot"}`, false},
	{"unknown field", `{"v":1,"cmd":"status","x":1}`, false},
	{"sensor without name", `{"v":1,"cmd":"sensor"}`, false},
	{"ack without id", `{"v":1,"cmd":"ack"}`, false},
	{"negative since", `{"v":1,"cmd":"logs","since_ms":-1}`, false},
	{"trailing", `{"v":1,"cmd":"status"}{}`, false},
	{"not json", `status`, false},
	{"empty", ``, false},
}

func TestDecodeRequest(t *testing.T) {
	for _, c := range requestCases {
		t.Run(c.name, func(t *testing.T) {
			r, err := DecodeRequest([]byte(c.line))
			if c.ok && err != nil {
				t.Fatalf("DecodeRequest(%s): %v", c.line, err)
			}
			if !c.ok {
				if err == nil {
					t.Fatalf("DecodeRequest(%s) = %+v, want an error", c.line, r)
				}
				if !errors.Is(err, ErrBadRequest) {
					t.Fatalf("error %v does not wrap ErrBadRequest", err)
				}
			}
		})
	}
	long := make([]byte, MaxRequest+1)
	if _, err := DecodeRequest(long); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("oversized request: %v, want ErrBadRequest", err)
	}
}

func FuzzDecodeRequest(f *testing.F) {
	for _, c := range requestCases {
		f.Add([]byte(c.line))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeRequest(b)
		if err != nil {
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("error %v does not wrap ErrBadRequest", err)
			}
			return
		}
		if r.V != Version || !known[r.Cmd] || r.SinceMS < 0 || r.IntervalMS < 0 ||
			r.Cmd == CmdUpdate && !slices.Contains(UpdateOps, r.Op) {
			t.Fatalf("accepted an invalid request %+v", r)
		}
	})
}
