package buserr

import (
	"errors"
	"fmt"
	"testing"
)

func TestIDErrorIsWrongID(t *testing.T) {
	err := fmt.Errorf("tmp117: probe: %w", &IDError{Chip: "tmp117", Got: 0x118, Want: 0x117})
	if !errors.Is(err, ErrWrongID) {
		t.Fatalf("errors.Is(%v, ErrWrongID) = false", err)
	}
	if errors.Is(err, ErrNACK) {
		t.Fatalf("IDError must not match ErrNACK")
	}
	var ide *IDError
	if !errors.As(err, &ide) || ide.Got != 0x118 {
		t.Fatalf("errors.As failed: %v", err)
	}
	if got, want := ide.Error(), "tmp117: wrong chip ID: got 0x118, want 0x117"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}
