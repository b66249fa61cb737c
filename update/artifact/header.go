package artifact

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"medagent/internal/jsonkeys"
)

// Size limits for the bounded parts of an artifact.
const (
	MaxManifestSize      = 1 << 20 // manifest bytes
	MaxHeaderSize        = 1 << 20 // compressed header member
	MaxHeaderUnpacked    = 4 << 20 // all header files together, decompressed
	MaxHeaderFileSize    = 1 << 20 // one header file
	MaxPayloads          = 16      // payloads (data/NNNN members) per artifact
	maxVersionSize       = 1 << 10
	maxTrailingZeroBytes = 1 << 20 // zero padding accepted after an inner tar
)

// Header is the verified, parsed header of an artifact.
type Header struct {
	Name        string // artifact_name
	Format      string // "mender"
	Version     int    // 3
	Compression string // of the header member: none, gzip, xz, zstd
	// Signed is true when the artifact has a manifest.sig; Verified is true
	// when a configured key verified it.
	Signed, Verified bool
	KeyID            string            // the key that verified it (see KeyID), "" when not verified
	DeviceTypes      []string          // artifact_depends.device_type
	Provides         map[string]string // header-info artifact_provides (artifact_name, artifact_group)
	DependsNames     []string          // artifact_depends.artifact_name: one of them must be installed
	DependsGroups    []string          // artifact_depends.artifact_group
	Payloads         []Payload
	Scripts          []Script // state scripts, in artifact order
}

// Payload describes one payload (headers/NNNN and data/NNNN).
type Payload struct {
	Type     string            // e.g. "rootfs-image" or an update module name
	Provides map[string]string // type-info artifact_provides
	// Depends maps a provides key to the accepted values (any one).
	Depends map[string][]string
	// ClearsProvides are glob patterns ('*' only); nil when the field is
	// absent (then the legacy default applies, see NewProvides).
	ClearsProvides []string
	MetaData       json.RawMessage // headers/NNNN/meta-data, nil when empty
	Chunks         *Chunks         // chunk list from MetaData, nil when it has none
	Compression    string          // of data/NNNN, set when its member is reached
	// Files are the names of the payload's files that the signed manifest
	// lists (data/NNNN/<name>), sorted: known before any is read.
	Files []string
}

// Script is a state script carried in the header.
type Script struct {
	Name    string
	Content []byte
}

type headerInfo struct {
	Payloads []struct {
		Type string `json:"type"`
	} `json:"payloads"`
	Provides map[string]string `json:"artifact_provides"`
	Depends  struct {
		DeviceType    []string `json:"device_type"`
		ArtifactName  []string `json:"artifact_name"`
		ArtifactGroup []string `json:"artifact_group"`
	} `json:"artifact_depends"`
}

type typeInfo struct {
	Type     *string                    `json:"type"`
	Provides map[string]string          `json:"artifact_provides"`
	Depends  map[string]json.RawMessage `json:"artifact_depends"`
	Clears   []string                   `json:"clears_artifact_provides"`
}

// fieldNames are the JSON field names of the artifact's typed documents
// (version, header-info, type-info, the chunk list): a key that is one of
// them in another case is refused (see internal/jsonkeys).
var fieldNames = []string{"format", "version", "payloads", "type", "artifact_provides", "artifact_depends",
	"device_type", "artifact_name", "artifact_group", "clears_artifact_provides",
	"file", "size", "chunk_size", "sha256"}

// decodeStrict decodes one JSON value into v: no unknown fields, no
// trailing data, and no key that parsers could read differently
// (duplicates, case variants; internal/jsonkeys).
func decodeStrict(b []byte, v any) error {
	if err := jsonkeys.Check(b, fieldNames...); err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if _, err := d.Token(); err != io.EOF {
		return errors.New("trailing data after JSON value")
	}
	return nil
}

// parseHeader parses the decompressed header tar.
func parseHeader(r io.Reader, h *Header) error {
	tr := tar.NewReader(io.LimitReader(r, MaxHeaderUnpacked+1))
	var hi headerInfo
	next := 0 // index of the payload whose type-info comes next
	seenMeta := false
	for i := 0; ; i++ {
		th, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("artifact: header: %w: %w", ErrFormat, err)
		}
		if !plainFile(th) {
			return fmt.Errorf("artifact: header: %q is not a plain regular file: %w", th.Name, ErrUnexpectedMember)
		}
		if th.Size > MaxHeaderFileSize {
			return fmt.Errorf("artifact: header: %q is %d bytes (limit %d): %w", th.Name, th.Size, MaxHeaderFileSize, ErrFormat)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return fmt.Errorf("artifact: header: read %q: %w: %w", th.Name, ErrFormat, err)
		}
		switch name := th.Name; {
		case i == 0:
			if name != "header-info" {
				return fmt.Errorf("artifact: header: first file is %q, want header-info: %w", name, ErrUnexpectedMember)
			}
			if err := decodeStrict(b, &hi); err != nil {
				return fmt.Errorf("artifact: header-info: %w: %w", ErrFormat, err)
			}
			if err := useHeaderInfo(&hi, h); err != nil {
				return err
			}
		case strings.HasPrefix(name, "scripts/"):
			s := strings.TrimPrefix(name, "scripts/")
			if next > 0 || !validName(s) || strings.Contains(s, "/") {
				return fmt.Errorf("artifact: header: %q: %w", name, ErrUnexpectedMember)
			}
			h.Scripts = append(h.Scripts, Script{Name: s, Content: b})
		case next < len(h.Payloads) && name == fmt.Sprintf("headers/%04d/type-info", next):
			if err := useTypeInfo(b, &h.Payloads[next]); err != nil {
				return fmt.Errorf("artifact: %s: %w", name, err)
			}
			next++
			seenMeta = false
		case next > 0 && !seenMeta && name == fmt.Sprintf("headers/%04d/meta-data", next-1):
			seenMeta = true
			if len(bytes.TrimSpace(b)) > 0 {
				if !printableJSON(b) {
					return fmt.Errorf("artifact: %s: holds a control, bidirectional-formatting or invalid UTF-8 character: %w", name, ErrFormat)
				}
				if err := jsonkeys.Check(b); err != nil {
					return fmt.Errorf("artifact: %s: %w: %w", name, ErrFormat, err)
				}
				var obj map[string]any
				if err := json.Unmarshal(b, &obj); err != nil {
					return fmt.Errorf("artifact: %s: not a JSON object: %w", name, ErrFormat)
				}
				h.Payloads[next-1].MetaData = json.RawMessage(b)
			}
		default:
			return fmt.Errorf("artifact: header: %q: %w", name, ErrUnexpectedMember)
		}
	}
	if h.Name == "" {
		return fmt.Errorf("artifact: header: no header-info: %w", ErrFormat)
	}
	if next != len(h.Payloads) {
		return fmt.Errorf("artifact: header: headers/%04d/type-info missing: %w", next, ErrMissing)
	}
	return nil
}

// printableJSON is printable for JSON text, whose formatting may hold
// tabs and line breaks.
func printableJSON(b []byte) bool {
	return printable(strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, string(b)))
}

func useHeaderInfo(hi *headerInfo, h *Header) error {
	name := hi.Provides["artifact_name"]
	if name == "" {
		return fmt.Errorf("artifact: header-info: artifact_provides.artifact_name missing: %w", ErrFormat)
	}
	if len(hi.Depends.DeviceType) == 0 {
		return fmt.Errorf("artifact: header-info: artifact_depends.device_type missing: %w", ErrFormat)
	}
	if len(hi.Payloads) == 0 || len(hi.Payloads) > MaxPayloads {
		return fmt.Errorf("artifact: header-info: %d payloads (want 1..%d): %w", len(hi.Payloads), MaxPayloads, ErrFormat)
	}
	for k, v := range hi.Provides {
		if err := checkText("header-info artifact_provides", k, v); err != nil {
			return err
		}
	}
	for _, list := range [][]string{hi.Depends.DeviceType, hi.Depends.ArtifactName, hi.Depends.ArtifactGroup} {
		if err := checkText("header-info artifact_depends", list...); err != nil {
			return err
		}
	}
	for _, p := range hi.Payloads {
		if err := checkText("header-info payload type", p.Type); err != nil {
			return err
		}
	}
	h.Name = name
	h.Provides = hi.Provides
	h.DeviceTypes = hi.Depends.DeviceType
	h.DependsNames = hi.Depends.ArtifactName
	h.DependsGroups = hi.Depends.ArtifactGroup
	for _, p := range hi.Payloads {
		h.Payloads = append(h.Payloads, Payload{Type: p.Type})
	}
	return nil
}

func useTypeInfo(b []byte, p *Payload) error {
	var ti typeInfo
	if err := decodeStrict(b, &ti); err != nil {
		return fmt.Errorf("%w: %w", ErrFormat, err)
	}
	// mender-artifact 3.9 writes "type":"" for rootfs-image; the type in
	// header-info then rules. A non-empty type must agree with it.
	if ti.Type != nil && *ti.Type != "" && *ti.Type != p.Type {
		return fmt.Errorf("type %q differs from header-info payload type %q: %w", *ti.Type, p.Type, ErrFormat)
	}
	for k, v := range ti.Provides {
		if err := checkText("artifact_provides", k, v); err != nil {
			return err
		}
	}
	if err := checkText("clears_artifact_provides", ti.Clears...); err != nil {
		return err
	}
	p.Provides = ti.Provides
	p.ClearsProvides = ti.Clears
	if len(ti.Depends) > 0 {
		p.Depends = map[string][]string{}
	}
	for k, raw := range ti.Depends {
		var one string
		var many []string
		switch {
		case checkText("artifact_depends", k) != nil:
			return checkText("artifact_depends", k)
		case json.Unmarshal(raw, &one) == nil:
			if err := checkText("artifact_depends."+k, one); err != nil {
				return err
			}
			p.Depends[k] = []string{one}
		case json.Unmarshal(raw, &many) == nil && len(many) > 0:
			if err := checkText("artifact_depends."+k, many...); err != nil {
				return err
			}
			p.Depends[k] = many
		default:
			return fmt.Errorf("artifact_depends.%s: want a string or a list of strings: %w", k, ErrFormat)
		}
	}
	return nil
}
