package control

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"testing"
	"time"
)

func TestRedactYAML(t *testing.T) {
	type mqtt struct {
		KeyFile  string `yaml:"key_file"`
		Password string `yaml:"password"`
		Token    string `yaml:"api_token"`
		Broker   string `yaml:"broker"`
		Inline   string `yaml:"inline"`
	}
	in := struct {
		MQTT mqtt `yaml:"mqtt"`
	}{mqtt{KeyFile: "/etc/medagent/pki/device.key", Password: "hunter2", Token: "abc", Broker: "tls://b:8883",
		Inline: "-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----\n"}}
	b, err := RedactYAML(in)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, secret := range []string{"hunter2", "abc", "MHcC", "PRIVATE KEY"} {
		if strings.Contains(s, secret) {
			t.Errorf("redacted YAML holds %q:\n%s", secret, s)
		}
	}
	for _, kept := range []string{"/etc/medagent/pki/device.key", "tls://b:8883"} {
		if !strings.Contains(s, kept) {
			t.Errorf("redacted YAML lost %q:\n%s", kept, s)
		}
	}
}

func TestWriteBundle(t *testing.T) {
	var buf bytes.Buffer
	err := WriteBundle(&buf, time.Unix(0, 0), []BundleFile{{"a.txt", []byte("hello")}, {"b.json", []byte("{}")}})
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
	}
	if strings.Join(names, ",") != "medagent-diag/a.txt,medagent-diag/b.json" {
		t.Fatalf("bundle holds %v", names)
	}
	buf.Reset()
	err = WriteBundle(&buf, time.Unix(0, 0), []BundleFile{{"k", []byte("-----BEGIN PRIVATE KEY-----")}})
	if err == nil || buf.Len() != 0 {
		t.Fatalf("bundle with a key: err %v, %d bytes written", err, buf.Len())
	}
}
