package config

import (
	"net/url"
	"time"
)

// EST configures certificate renewal by EST simplereenroll (RFC 7030,
// trust/est) over mutual TLS. Off while URL is empty.
type EST struct {
	// URL is the EST server's base, e.g. https://est.example.net/.well-known/est.
	URL string `yaml:"url"`
	// CAFile is the CA that signed the EST server's certificate.
	CAFile string `yaml:"ca_file"`
	// RootFile is the manufacturer root a renewed certificate must chain to
	// (through a factory intermediate), as at provisioning.
	RootFile string `yaml:"root_file"`
	// Window: renew when the certificate expires within it.
	Window time.Duration `yaml:"window"`
}

func (e *EST) check(c *checker) {
	c.rangeD("est.window", e.Window, time.Hour, 365*24*time.Hour)
	if e.URL == "" {
		return
	}
	if u, err := url.Parse(e.URL); err != nil || u.Scheme != "https" || u.Host == "" {
		c.add("est.url", "must be an https:// URL, got %q", e.URL)
	}
	c.required("est.ca_file", e.CAFile)
	c.required("est.root_file", e.RootFile)
}
