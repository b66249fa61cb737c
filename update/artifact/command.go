package artifact

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"medagent/internal/cmdline"
)

// Summary is what inspect reports about an artifact (also its --json form).
type Summary struct {
	Name          string            `json:"name"`
	Format        string            `json:"format"`
	Version       int               `json:"version"`
	Compression   string            `json:"compression"`
	Signed        bool              `json:"signed"`
	Verified      bool              `json:"verified"`
	DeviceTypes   []string          `json:"device_types"`
	Provides      map[string]string `json:"provides"`
	DependsNames  []string          `json:"depends_artifact_name,omitempty"`
	DependsGroups []string          `json:"depends_artifact_group,omitempty"`
	Scripts       []string          `json:"scripts,omitempty"`
	Payloads      []PayloadSummary  `json:"payloads"`
}

// PayloadSummary describes one payload in a Summary.
type PayloadSummary struct {
	Type           string              `json:"type"`
	Compression    string              `json:"compression"`
	Provides       map[string]string   `json:"provides,omitempty"`
	Depends        map[string][]string `json:"depends,omitempty"`
	ClearsProvides []string            `json:"clears_provides,omitempty"`
	MetaData       json.RawMessage     `json:"meta_data,omitempty"`
	Files          []FileSummary       `json:"files"`
}

// FileSummary is one payload file: its size and verified sha256.
type FileSummary struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Read reads the whole artifact from src with opt, verifying every payload
// checksum, and summarises it. A nil error means the artifact is valid
// under opt.
func Read(ctx context.Context, src io.Reader, opt Options) (*Summary, error) {
	r, err := NewReader(ctxReader{ctx, src}, opt)
	if err != nil {
		return nil, err
	}
	h := r.Header()
	s := &Summary{Name: h.Name, Format: h.Format, Version: h.Version, Compression: h.Compression,
		Signed: h.Signed, Verified: h.Verified, DeviceTypes: h.DeviceTypes, Provides: h.Provides,
		DependsNames: h.DependsNames, DependsGroups: h.DependsGroups}
	for _, sc := range h.Scripts {
		s.Scripts = append(s.Scripts, sc.Name)
	}
	for {
		f, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if _, err := io.Copy(io.Discard, f); err != nil {
			return nil, err
		}
		for len(s.Payloads) <= f.Payload {
			s.Payloads = append(s.Payloads, PayloadSummary{})
		}
		p := &s.Payloads[f.Payload]
		p.Files = append(p.Files, FileSummary{Name: f.Name, Size: f.Size, SHA256: hex.EncodeToString(f.SHA256[:])})
	}
	for len(s.Payloads) < len(h.Payloads) {
		s.Payloads = append(s.Payloads, PayloadSummary{})
	}
	for i, p := range h.Payloads {
		sp := &s.Payloads[i]
		sp.Type, sp.Compression, sp.Provides, sp.Depends = p.Type, p.Compression, p.Provides, p.Depends
		sp.ClearsProvides, sp.MetaData = p.ClearsProvides, p.MetaData
		if sp.Files == nil {
			sp.Files = []FileSummary{}
		}
	}
	return s, nil
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

type keyList []string

func (k *keyList) String() string     { return strings.Join(*k, ",") }
func (k *keyList) Set(v string) error { *k = append(*k, v); return nil }

// InspectCmd is "medagent artifact inspect [--json] [--key PUB.pem]... FILE".
// It reads the whole artifact (checking payload checksums) and prints its
// name, format, compression, device types, provides, depends, payloads and
// files. Without --key the signature is reported but not verified.
func InspectCmd() *cmdline.Command {
	return &cmdline.Command{
		Name:    "inspect",
		Args:    "FILE",
		Summary: "print what an artifact holds, checking every payload checksum",
		Help: `Reads the whole artifact, checking every payload checksum, and prints its
name, format, compression, device types, provides, depends, state scripts,
payloads and files. Without --key the signature is reported, not verified.`,
		Examples: []string{
			"medagent artifact inspect release-2.1.mender",
			"medagent artifact inspect --json --key /etc/medagent/update.pem release-2.1.mender",
		},
		Flags: func(fs *flag.FlagSet) cmdline.Run {
			asJSON := fs.Bool("json", false, "print JSON")
			var keys keyList
			fs.Var(&keys, "key", "PEM public `FILE` to verify the signature with (repeatable)")
			window := windowFlag(fs)
			return func(ctx context.Context, io cmdline.IO, args []string) error {
				if len(args) != 1 {
					return cmdline.Usagef("needs exactly one artifact FILE, got %d", len(args))
				}
				opt := Options{AllowUnsigned: true, SkipCompatibility: true, MaxWindow: *window << 20}
				var err error
				if len(keys) > 0 {
					if opt.Keys, err = LoadPublicKeys(keys...); err != nil {
						return err
					}
				}
				s, err := readFile(ctx, args[0], opt)
				if err != nil {
					return err
				}
				if *asJSON {
					enc := json.NewEncoder(io.Stdout)
					enc.SetIndent("", "  ")
					return enc.Encode(s)
				}
				return printSummary(io.Stdout, s)
			}
		},
	}
}

// VerifyCmd is "medagent artifact verify --key PUB.pem [--key ...]
// [--device-type T] FILE". It reads the whole artifact; a nil error means
// the artifact is valid (signed by one of the keys, every checksum right).
func VerifyCmd() *cmdline.Command {
	return &cmdline.Command{
		Name:    "verify",
		Usage:   "--key PUB.pem [--key PUB.pem]... [--device-type TYPE]",
		Args:    "FILE",
		Summary: "check an artifact's signature and every checksum",
		Help: `Reads the whole artifact and exits 0 only if it is signed by one of the
keys and every checksum is right (and, with --device-type, it is meant for
that device type). Nothing is installed.`,
		Examples: []string{
			"medagent artifact verify --key /etc/medagent/update.pem release-2.1.mender",
			"medagent artifact verify --key old.pem --key new.pem --device-type bedside-a release-2.1.mender",
		},
		Flags: func(fs *flag.FlagSet) cmdline.Run {
			var keys keyList
			fs.Var(&keys, "key", "trusted PEM public key `FILE` (repeatable, at least one)")
			devType := fs.String("device-type", "", "also check compatibility with this device `TYPE`")
			window := windowFlag(fs)
			return func(ctx context.Context, io cmdline.IO, args []string) error {
				if len(args) != 1 {
					return cmdline.Usagef("needs exactly one artifact FILE, got %d", len(args))
				}
				if len(keys) == 0 {
					return cmdline.Usagef("needs at least one --key")
				}
				pub, err := LoadPublicKeys(keys...)
				if err != nil {
					return err
				}
				opt := Options{Keys: pub, DeviceType: *devType, SkipCompatibility: *devType == "", MaxWindow: *window << 20}
				s, err := readFile(ctx, args[0], opt)
				if err != nil {
					return fmt.Errorf("%s: %w", args[0], err)
				}
				_, err = fmt.Fprintf(io.Stdout, "%s: valid, artifact %q, signature verified\n", args[0], s.Name)
				return err
			}
		},
	}
}

// windowFlag adds --max-window-mib (the decompression window bound).
func windowFlag(fs *flag.FlagSet) *int64 {
	return fs.Int64("max-window-mib", DefaultMaxWindow>>20,
		"largest decompression window (xz dictionary, zstd window) to allocate, in `MiB` (mender-artifact's lzma needs 64)")
}

// ChunksCmd is "medagent artifact chunks [--chunk-size N] [--name FILE]
// [--meta-data META.json] IMAGE": it prints the payload meta-data (a JSON
// object) that carries IMAGE's chunk list, so that devices verify every
// chunk before writing it.
func ChunksCmd() *cmdline.Command {
	return &cmdline.Command{
		Name:    "chunks",
		Args:    "IMAGE",
		Summary: "print the signed-meta-data chunk list of an image (verify before write)",
		Help: `Prints a payload meta-data JSON object holding the SHA-256 of every chunk
of IMAGE. Signed into an artifact, it lets the device check each chunk before
it writes it to the inactive slot: the first bad chunk stops the install.
Stock mender-artifact 3.9 adds it with "modify ART --meta-data FILE -k KEY"
(after "write rootfs-image"), or with "write module-image -T rootfs-image
-m FILE". --name must be the file name inside the artifact (mender-artifact
stores the base name of -f).`,
		Examples: []string{
			"medagent artifact chunks rootfs.ext4 > meta.json",
			"mender-artifact modify release-2.1.mender --meta-data meta.json -k release.pem",
		},
		Flags: func(fs *flag.FlagSet) cmdline.Run {
			size := fs.Int64("chunk-size", DefaultChunkSize, fmt.Sprintf("`bytes` per chunk (%d..%d; the device holds one in RAM)", MinChunkSize, MaxChunkSize))
			name := fs.String("name", "", "payload `FILE` name in the artifact (default: IMAGE's base name)")
			merge := fs.String("meta-data", "", "existing meta-data JSON object `FILE` to add the chunk list to")
			return func(ctx context.Context, io cmdline.IO, args []string) error {
				if len(args) != 1 {
					return cmdline.Usagef("needs exactly one IMAGE, got %d", len(args))
				}
				if *size < MinChunkSize || *size > MaxChunkSize {
					return cmdline.Usagef("--chunk-size %d outside %d..%d", *size, MinChunkSize, MaxChunkSize)
				}
				file := *name
				if file == "" {
					file = filepath.Base(args[0])
				}
				var base []byte
				if *merge != "" {
					var err error
					if base, err = os.ReadFile(*merge); err != nil {
						return fmt.Errorf("artifact chunks: %w", err)
					}
				}
				f, err := os.Open(args[0])
				if err != nil {
					return fmt.Errorf("artifact chunks: %w", err)
				}
				defer f.Close()
				c, err := MakeChunks(ctxReader{ctx, f}, file, *size)
				if err != nil {
					return err
				}
				b, err := c.MetaData(base)
				if err != nil {
					return err
				}
				_, err = io.Stdout.Write(b)
				return err
			}
		},
	}
}

func readFile(ctx context.Context, path string, opt Options) (*Summary, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("artifact: %w", err)
	}
	defer f.Close()
	return Read(ctx, f, opt)
}

func printSummary(w io.Writer, s *Summary) error {
	sig := "no"
	switch {
	case s.Verified:
		sig = "yes (verified)"
	case s.Signed:
		sig = "yes (not verified: no --key given)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Name: %s\nFormat: %s %d\nHeader compression: %s\nSigned: %s\n", s.Name, s.Format, s.Version, s.Compression, sig)
	fmt.Fprintf(&b, "Device types: %s\n", strings.Join(s.DeviceTypes, ", "))
	writeMap(&b, "Provides", "  ", s.Provides)
	if len(s.DependsNames) > 0 {
		fmt.Fprintf(&b, "Depends on artifact_name: %s\n", strings.Join(s.DependsNames, ", "))
	}
	if len(s.DependsGroups) > 0 {
		fmt.Fprintf(&b, "Depends on artifact_group: %s\n", strings.Join(s.DependsGroups, ", "))
	}
	for _, sc := range s.Scripts {
		fmt.Fprintf(&b, "Script: %s\n", sc)
	}
	for i, p := range s.Payloads {
		fmt.Fprintf(&b, "Payload %d:\n  Type: %s\n  Compression: %s\n", i, p.Type, p.Compression)
		writeMap(&b, "  Provides", "    ", p.Provides)
		if len(p.Depends) > 0 {
			fmt.Fprintf(&b, "  Depends:\n")
			for _, k := range sortedKeysList(p.Depends) {
				fmt.Fprintf(&b, "    %s: %s\n", k, strings.Join(p.Depends[k], ", "))
			}
		}
		if len(p.ClearsProvides) > 0 {
			fmt.Fprintf(&b, "  Clears provides: %s\n", strings.Join(p.ClearsProvides, ", "))
		}
		if len(p.MetaData) > 0 {
			fmt.Fprintf(&b, "  Meta-data: %s\n", strings.TrimSpace(string(p.MetaData)))
		}
		for _, f := range p.Files {
			fmt.Fprintf(&b, "  File: %s size %d sha256 %s\n", f.Name, f.Size, f.SHA256)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeMap(b *strings.Builder, title, indent string, m map[string]string) {
	if len(m) == 0 {
		return
	}
	fmt.Fprintf(b, "%s:\n", title)
	for _, k := range sortedKeys(m) {
		fmt.Fprintf(b, "%s%s: %s\n", indent, k, m[k])
	}
}

func sortedKeysList(m map[string][]string) []string {
	k := make([]string, 0, len(m))
	for key := range m {
		k = append(k, key)
	}
	sortStrings(k)
	return k
}
