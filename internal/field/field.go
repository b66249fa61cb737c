package field

import "fmt"

// Error is a problem with one key.
type Error struct {
	Key string // relative to the component's section: "max_bytes", "options.averaging"
	Msg string // what is wrong and, where it helps, the fix
	// Err, when set, is what the error matches with errors.Is (say
	// buserr.ErrBadConfig).
	Err error
}

func (e *Error) Error() string { return e.Key + ": " + e.Msg }

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns a *Error for key.
func Errorf(key, format string, a ...any) error {
	return &Error{Key: key, Msg: fmt.Sprintf(format, a...)}
}
