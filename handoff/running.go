package handoff

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// runningName is the running software in the state directory: acquire
// writes it, the uplink reads it. Its name is not an item id's ("<id>.json").
const runningName = "running.provides"

// Running is the software the device runs, as acquire knows it: the
// provides of the artifact the update engine last committed (its journal),
// or, on a device never updated, those of the root file system's
// artifact_info. The uplink's Mender client reports it to the server; the
// uplink cannot read acquire's journal, and the root file system's
// artifact_info alone would be wrong after an update whose artifact name
// differs from the name the image was built with.
type Running struct {
	Format int `json:"format"`
	// Provides holds artifact_name and the artifact's other provides
	// (rootfs-image.version, ...).
	Provides map[string]string `json:"provides"`
	// Source is where acquire took them from: "update journal" or the
	// artifact_info path.
	Source  string    `json:"source"`
	Updated time.Time `json:"updated"`
}

// Limits of the running software's file.
const (
	maxRunning        = 16 << 10
	maxProvides       = 64
	maxProvideKey     = 128
	maxProvideValue   = 256
	artifactNameKey   = "artifact_name"
	maxArtifactInfoSz = 16 << 10
)

var provideKeyRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// Check says whether r is well formed: a format this code writes, an
// artifact_name, and bounded printable provides.
func (r *Running) Check() error {
	if r.Format != Format {
		return fmt.Errorf("handoff: running software: format %d, want %d", r.Format, Format)
	}
	if err := checkProvides(r.Provides); err != nil {
		return fmt.Errorf("handoff: running software: %w", err)
	}
	if !printable(r.Source, maxText) {
		return fmt.Errorf("handoff: running software: source: at most %d printable characters", maxText)
	}
	return nil
}

func checkProvides(p map[string]string) error {
	if p[artifactNameKey] == "" {
		return errors.New("no artifact_name")
	}
	if len(p) > maxProvides {
		return fmt.Errorf("%d provides, at most %d", len(p), maxProvides)
	}
	for k, v := range p {
		if !ValidProvide(k, "x") {
			return fmt.Errorf("provide name %.40q: want 1-%d of A-Z a-z 0-9 . _ -", k, maxProvideKey)
		}
		if !ValidProvide(k, v) {
			return fmt.Errorf("provide %s: want 1-%d printable characters", k, maxProvideValue)
		}
	}
	return nil
}

// ValidProvide says whether k=v may be published as a provide: a name of
// 1-128 of A-Z a-z 0-9 . _ - (starting with a letter or digit) and a value
// of 1-256 printable characters.
func ValidProvide(k, v string) bool {
	return len(k) <= maxProvideKey && provideKeyRe.MatchString(k) && v != "" && printable(v, maxProvideValue)
}

// WriteRunning replaces the running software's file in the state
// directory atomically (not fsynced: acquire writes it again at every
// start and change, and a lost file reads as "not known yet").
func (c *Consumer) WriteRunning(r Running) error {
	r.Format = Format
	r.Provides = maps.Clone(r.Provides)
	if err := r.Check(); err != nil {
		return err
	}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("handoff: encode running software: %w", err)
	}
	if err := replaceFile(filepath.Join(c.o.StateDir, runningName), b); err != nil {
		return fmt.Errorf("handoff: write running software: %w", err)
	}
	return nil
}

// Running reads what acquire published about the running software;
// os.ErrNotExist (wrapped) when it has not (yet).
func (p *Producer) Running() (Running, error) {
	root, err := os.OpenRoot(p.o.StateDir)
	if err != nil {
		return Running{}, fmt.Errorf("handoff: %w", err)
	}
	defer root.Close()
	b, err := readRegular(root, runningName, maxRunning)
	if err != nil {
		return Running{}, fmt.Errorf("handoff: running software: %w", err)
	}
	return DecodeRunning(b)
}

// DecodeRunning parses and checks the running software's file strictly.
func DecodeRunning(b []byte) (Running, error) {
	var r Running
	if len(b) > maxRunning {
		return r, fmt.Errorf("handoff: running software of %d bytes, limit %d", len(b), maxRunning)
	}
	if err := decodeStrict(b, &r); err != nil {
		return Running{}, fmt.Errorf("handoff: running software: %w", err)
	}
	if err := r.Check(); err != nil {
		return Running{}, err
	}
	return r, nil
}

// ParseArtifactInfo reads an artifact_info file as meta-mender installs it
// (/etc/mender/artifact_info): "key=value" lines, "#" comments and blank
// lines ignored. artifact_name is required; the provides are checked as
// Running's are.
func ParseArtifactInfo(b []byte) (map[string]string, error) {
	if len(b) > maxArtifactInfoSz {
		return nil, fmt.Errorf("artifact_info of %d bytes, limit %d", len(b), maxArtifactInfoSz)
	}
	p := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("artifact_info line %d: want key=value", n)
		}
		p[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("artifact_info: %w", err)
	}
	if err := checkProvides(p); err != nil {
		return nil, fmt.Errorf("artifact_info: %w", err)
	}
	return p, nil
}
