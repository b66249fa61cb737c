package mendertest

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"path"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

//go:embed openapi
var specFS embed.FS

// specFiles are the device API files the server serves.
var specFiles = []string{
	"openapi/deviceauth/devices_v1.yaml",
	"openapi/inventory/devices_v1.yaml",
	"openapi/deployments/devices_v1.yaml",
	"openapi/deployments/next_post.yaml",
}

// spec is the loaded device API: one router per file.
type spec struct {
	routers  []routers.Router
	postNext routers.Router // the README's POST next, served only when enabled
}

func loadSpec() (*spec, error) {
	l := openapi3.NewLoader()
	l.IsExternalRefsAllowed = true
	l.ReadFromURIFunc = func(_ *openapi3.Loader, u *url.URL) ([]byte, error) {
		return fs.ReadFile(specFS, path.Clean(u.Path))
	}
	s := &spec{}
	for _, f := range specFiles {
		doc, err := l.LoadFromURI(&url.URL{Path: f})
		if err != nil {
			return nil, fmt.Errorf("mendertest: load %s: %w", f, err)
		}
		if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
			return nil, fmt.Errorf("mendertest: %s is not a valid OpenAPI document: %w", f, err)
		}
		doc.Servers = nil // match paths on any host
		r, err := legacy.NewRouter(doc)
		if err != nil {
			return nil, fmt.Errorf("mendertest: router for %s: %w", f, err)
		}
		if path.Base(f) == "next_post.yaml" {
			s.postNext = r
		} else {
			s.routers = append(s.routers, r)
		}
	}
	return s, nil
}

// route finds req's operation; postNext enables the README's POST next.
func (s *spec) route(req *http.Request, postNext bool) (*routers.Route, map[string]string, bool) {
	rs := s.routers
	if postNext {
		rs = append([]routers.Router{s.postNext}, rs...)
	}
	for _, r := range rs {
		if route, params, err := r.FindRoute(req); err == nil {
			return route, params, true
		}
	}
	return nil, nil, false
}

// bearerPresent is the spec's DeviceJWT check: a bearer token is there
// (whether it is valid is the server's business, answered with 401).
func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecuritySchemeName != "DeviceJWT" {
		return fmt.Errorf("unknown security scheme %s", in.SecuritySchemeName)
	}
	if in.RequestValidationInput.Route.Operation.OperationID == "DeviceAuth Authenticate Device" {
		// The deviceauth file puts DeviceJWT on the whole document, the
		// auth request included; the device has no JWT before it, and the
		// server asks for none.
		return nil
	}
	h := in.RequestValidationInput.Request.Header.Get("Authorization")
	if len(h) < 8 || h[:7] != "Bearer " {
		return fmt.Errorf("no bearer token")
	}
	return nil
}
