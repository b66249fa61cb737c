package control

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"time"
)

// BundleFile is one file of a diagnostic bundle.
type BundleFile struct {
	Name string
	Data []byte
}

// maxBundleFile bounds one file of a bundle.
const maxBundleFile = 8 << 20

// WriteBundle writes files as a tar.gz stamped with time at. It fails
// closed: a file that holds a PEM private key is refused, never written.
func WriteBundle(w io.Writer, at time.Time, files []BundleFile) error {
	for _, f := range files {
		if bytes.Contains(f.Data, []byte("PRIVATE KEY")) {
			return fmt.Errorf("control: bundle: %s holds a private key; refusing to write it", f.Name)
		}
		if len(f.Data) > maxBundleFile {
			return fmt.Errorf("control: bundle: %s is %d bytes (max %d)", f.Name, len(f.Data), maxBundleFile)
		}
	}
	zw := gzip.NewWriter(w)
	tw := tar.NewWriter(zw)
	for _, f := range files {
		h := &tar.Header{Name: "medagent-diag/" + f.Name, Mode: 0o644, Size: int64(len(f.Data)), ModTime: at, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("control: bundle: %w", err)
		}
		if _, err := tw.Write(f.Data); err != nil {
			return fmt.Errorf("control: bundle: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("control: bundle: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("control: bundle: %w", err)
	}
	return nil
}
