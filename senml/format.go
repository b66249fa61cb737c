package senml

import "fmt"

// Format selects the SenML representation.
type Format uint8

// The formats. JSON is the default (the zero value).
const (
	JSON Format = iota // application/senml+json
	CBOR               // application/senml+cbor
)

func (f Format) String() string {
	switch f {
	case JSON:
		return "json"
	case CBOR:
		return "cbor"
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// ParseFormat maps "json" (or "") and "cbor" to a Format.
func ParseFormat(s string) (Format, error) {
	switch s {
	case "", "json":
		return JSON, nil
	case "cbor":
		return CBOR, nil
	}
	return 0, fmt.Errorf("senml: unknown format %q (want json or cbor)", s)
}

// ContentType is the media type of f (RFC 8428 §12.3).
func (f Format) ContentType() string {
	if f == CBOR {
		return "application/senml+cbor"
	}
	return "application/senml+json"
}
