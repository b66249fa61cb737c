package mendertest

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
)

// Options shape the server.
type Options struct {
	// PostNext serves POST .../deployments/next (the real server does;
	// the published spec has only GET, so without it the client must fall
	// back to GET after a 404).
	PostNext bool
	// AcceptAll accepts every device at its first auth request.
	AcceptAll bool
	// TokenTTL is how long a JWT is valid; default an hour.
	TokenTTL time.Duration
	// LinkTTL is how long a download link is valid; default an hour.
	LinkTTL time.Duration
	// HideExpiry leaves the link's expire time out of the instructions
	// (it is optional): the client learns of the expiry from the 403.
	HideExpiry bool
}

// Deployment is what an operator deploys to the devices.
type Deployment struct {
	ID           string
	ArtifactName string
	DeviceTypes  []string
	File         string // the artifact
}

// Server is a running test server.
type Server struct {
	URL   string
	CA    *x509.Certificate // the server's certificate (self-signed by httptest)
	CAPEM []byte

	t    testing.TB
	o    Options
	spec *spec
	ts   *httptest.Server
	key  []byte // JWT HMAC key

	mu          sync.Mutex
	devices     map[string]*Device // by id_data
	tokens      map[string]tokenInfo
	deployments []Deployment
	limit429    int   // next calls to next that answer 429
	dropAt      int64 // the next download is cut after this many bytes (0: none)
	violations  []string
	calls       map[string]int
}

type tokenInfo struct {
	device string
	exp    time.Time
}

// Device is what the server knows about one device.
type Device struct {
	IDData    string
	PubKey    string
	Accepted  bool
	AuthTries int
	Inventory []map[string]any
	// Statuses lists the statuses reported per deployment, in order.
	Statuses map[string][]string
	Substate map[string]string
	Logs     map[string][]map[string]any
}

// Start starts the server with TLS; it stops when the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	sp, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	if o.TokenTTL == 0 {
		o.TokenTTL = time.Hour
	}
	if o.LinkTTL == 0 {
		o.LinkTTL = time.Hour
	}
	s := &Server{t: t, o: o, spec: sp, devices: map[string]*Device{}, tokens: map[string]tokenInfo{}, calls: map[string]int{}}
	s.key = make([]byte, 32)
	rand.Read(s.key)
	s.ts = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.ts.EnableHTTP2 = false
	s.ts.StartTLS()
	t.Cleanup(s.ts.Close)
	s.URL = s.ts.URL
	s.CA = s.ts.Certificate()
	s.CAPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.CA.Raw})
	return s
}

// WriteCA writes the server's certificate to path (the client's ca_file).
func (s *Server) WriteCA(path string) error { return os.WriteFile(path, s.CAPEM, 0o644) }

// Accept accepts the device whose id_data contains match (all if "").
func (s *Server) Accept(match string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, d := range s.devices {
		if strings.Contains(id, match) {
			d.Accepted = true
		}
	}
}

// Deploy makes d the deployment every device is offered.
func (s *Server) Deploy(d Deployment) {
	s.mu.Lock()
	s.deployments = append(s.deployments, d)
	s.mu.Unlock()
}

// RateLimit makes the next n calls of next answer 429 with Retry-After: 1.
func (s *Server) RateLimit(n int) {
	s.mu.Lock()
	s.limit429 = n
	s.mu.Unlock()
}

// DropDownloadAt cuts the next download after n bytes.
func (s *Server) DropDownloadAt(n int64) {
	s.mu.Lock()
	s.dropAt = n
	s.mu.Unlock()
}

// ExpireTokens makes every JWT issued so far invalid (401 at next use).
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	s.tokens = map[string]tokenInfo{}
	s.mu.Unlock()
}

// Devices returns a copy of what the server knows, by id_data.
func (s *Server) Devices() map[string]Device {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]Device{}
	for k, d := range s.devices {
		c := *d
		out[k] = c
	}
	return out
}

// Calls is how often each operation ("METHOD path") was called.
func (s *Server) Calls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

// Violations are the departures from the spec seen so far.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

func (s *Server) violate(format string, a ...any) {
	s.mu.Lock()
	s.violations = append(s.violations, fmt.Sprintf(format, a...))
	s.mu.Unlock()
}

// serve validates the request, runs the handler into a recorder,
// validates the response and sends it.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/storage/") {
		s.storage(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	s.mu.Lock()
	postNext := s.o.PostNext
	s.calls[r.Method+" "+r.URL.Path]++
	s.mu.Unlock()
	route, params, ok := s.spec.route(r, postNext)
	if !ok {
		// Not in the spec: what the real server answers for an unknown route.
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not found"})
		return
	}
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: bearerPresent, MultiError: true}}
	if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
		if strings.Contains(err.Error(), "no bearer token") {
			// The spec's security: answered with 401 like the server does.
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "missing token"})
			return
		}
		s.violate("request %s %s: %v", r.Method, r.URL.Path, err)
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := httptest.NewRecorder()
	s.handle(rec, r, body, route.Operation.OperationID)
	res := rec.Result()
	rb := rec.Body.Bytes()
	if res.StatusCode == http.StatusTooManyRequests || (res.StatusCode == http.StatusUnauthorized && route.Operation.Security != nil) {
		// README behaviour the spec does not list: an Error body, and a
		// Retry-After on 429.
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(rb, &e) != nil || e.Error == "" {
			s.violate("response %d to %s %s: not an Error body: %q", res.StatusCode, r.Method, r.URL.Path, rb)
		}
		if res.StatusCode == http.StatusTooManyRequests && res.Header.Get("Retry-After") == "" {
			s.violate("429 without Retry-After")
		}
	} else {
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: res.StatusCode, Header: res.Header,
			Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
		out.SetBodyBytes(rb)
		if err := openapi3filter.ValidateResponse(r.Context(), out); err != nil {
			s.violate("response %d to %s %s: %v", res.StatusCode, r.Method, r.URL.Path, err)
		}
	}
	for k, v := range res.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(res.StatusCode)
	w.Write(rb)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if v != nil {
		json.NewEncoder(w).Encode(v)
	}
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request, body []byte, op string) {
	switch op {
	case "DeviceAuth Authenticate Device":
		s.auth(w, r, body)
		return
	}
	d := s.device(r)
	if d == nil {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "token invalid or expired"})
		return
	}
	switch op {
	case "Assign Attributes", "Replace Attributes":
		var attrs []map[string]any
		json.Unmarshal(body, &attrs)
		s.mu.Lock()
		d.Inventory = attrs
		s.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	case "Check Update", "Check Update With Provides":
		s.next(w, r, d)
	case "Update Deployment Status":
		var st struct {
			Status   string `json:"status"`
			Substate string `json:"substate"`
		}
		json.Unmarshal(body, &st)
		id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/devices/v1/deployments/device/deployments/"), "/status")
		s.mu.Lock()
		d.Statuses[id] = append(d.Statuses[id], st.Status)
		d.Substate[id] = st.Substate
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	case "Report Deployment Log":
		var l struct {
			Messages []map[string]any `json:"messages"`
		}
		json.Unmarshal(body, &l)
		id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/devices/v1/deployments/device/deployments/"), "/log")
		s.mu.Lock()
		d.Logs[id] = l.Messages
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not served by the test server: " + op})
	}
}

// auth checks the signature and answers 401 until the device is accepted.
func (s *Server) auth(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		IDData string `json:"id_data"`
		PubKey string `json:"pubkey"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	if err := verifySignature(req.PubKey, body, r.Header.Get("X-MEN-Signature")); err != nil {
		s.violate("auth request of %s: %v", req.IDData, err)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "signature verification failed"})
		return
	}
	s.mu.Lock()
	d := s.devices[req.IDData]
	if d == nil {
		d = &Device{IDData: req.IDData, Statuses: map[string][]string{}, Substate: map[string]string{}, Logs: map[string][]map[string]any{}}
		s.devices[req.IDData] = d
	}
	if d.PubKey != "" && d.PubKey != req.PubKey {
		s.mu.Unlock()
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "key changed"})
		return
	}
	d.PubKey = req.PubKey
	d.AuthTries++
	if s.o.AcceptAll {
		d.Accepted = true
	}
	accepted := d.Accepted
	s.mu.Unlock()
	if !accepted {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized: device pending acceptance"})
		return
	}
	tok := s.issue(req.IDData)
	writeJSON(w, http.StatusOK, tok) // a JSON string, as the spec says
}

func (s *Server) issue(dev string) string {
	exp := time.Now().Add(s.o.TokenTTL)
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	nonce := make([]byte, 8)
	rand.Read(nonce)
	p, _ := json.Marshal(map[string]any{"exp": exp.Unix(), "sub": dev, "jti": hex.EncodeToString(nonce), "iss": "mendertest"})
	msg := h + "." + base64.RawURLEncoding.EncodeToString(p)
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(msg))
	tok := msg + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	s.mu.Lock()
	s.tokens[tok] = tokenInfo{dev, exp}
	s.mu.Unlock()
	return tok
}

func (s *Server) device(r *http.Request) *Device {
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	defer s.mu.Unlock()
	ti, ok := s.tokens[tok]
	if !ok || time.Now().After(ti.exp) {
		return nil
	}
	return s.devices[ti.device]
}

func verifySignature(pubPEM string, body []byte, sig64 string) error {
	blk, _ := pem.Decode([]byte(pubPEM))
	if blk == nil || blk.Type != "PUBLIC KEY" {
		return fmt.Errorf("pubkey is not a PEM PUBLIC KEY")
	}
	pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return fmt.Errorf("pubkey: %w", err)
	}
	sig, err := base64.StdEncoding.DecodeString(sig64)
	if err != nil {
		return fmt.Errorf("X-MEN-Signature is not base64: %w", err)
	}
	sum := sha256.Sum256(body)
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(k, crypto.SHA256, sum[:], sig)
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(k, sum[:], sig) {
			return fmt.Errorf("ECDSA signature does not verify")
		}
		return nil
	}
	return fmt.Errorf("pubkey type %T not supported", pub)
}

// next offers the newest deployment the device has not finished.
func (s *Server) next(w http.ResponseWriter, r *http.Request, d *Device) {
	s.mu.Lock()
	if s.limit429 > 0 {
		s.limit429--
		s.mu.Unlock()
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": "too many requests"})
		return
	}
	// The newest deployment, until the device finished it.
	var dep *Deployment
	if n := len(s.deployments); n > 0 {
		st := d.Statuses[s.deployments[n-1].ID]
		if len(st) == 0 || !final(st[len(st)-1]) {
			dep = &s.deployments[n-1]
		}
	}
	s.mu.Unlock()
	if dep == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	exp := time.Now().Add(s.o.LinkTTL).UTC()
	link := fmt.Sprintf("%s/storage/%s?x-men-expire=%d&x-men-signature=%s", s.URL, dep.ID, exp.UnixNano(), s.linkSig(dep.ID, exp.UnixNano()))
	src := map[string]any{"uri": link, "expire": exp.Format(time.RFC3339Nano)}
	if s.o.HideExpiry {
		delete(src, "expire")
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": dep.ID,
		"artifact": map[string]any{
			"artifact_name":           dep.ArtifactName,
			"device_types_compatible": dep.DeviceTypes,
			"source":                  src,
		},
	})
}

func final(st string) bool { return st == "success" || st == "failure" || st == "already-installed" }

func (s *Server) linkSig(id string, exp int64) string {
	m := hmac.New(sha256.New, s.key)
	fmt.Fprintf(m, "%s/%d", id, exp)
	return hex.EncodeToString(m.Sum(nil))
}

// storage serves an artifact by its pre-signed link, with Range support.
func (s *Server) storage(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/storage/")
	s.mu.Lock()
	s.calls["GET /storage/"]++
	s.mu.Unlock()
	exp, _ := strconv.ParseInt(r.URL.Query().Get("x-men-expire"), 10, 64)
	if !hmac.Equal([]byte(r.URL.Query().Get("x-men-signature")), []byte(s.linkSig(id, exp))) || time.Now().UnixNano() > exp {
		s.mu.Lock()
		s.calls["403 /storage/"]++
		s.mu.Unlock()
		http.Error(w, "link expired or signature invalid", http.StatusForbidden)
		return
	}
	s.mu.Lock()
	var file string
	for _, d := range s.deployments {
		if d.ID == id {
			file = d.File
		}
	}
	drop := s.dropAt
	s.dropAt = 0
	s.mu.Unlock()
	f, err := os.Open(file)
	if err != nil {
		http.Error(w, "no such artifact", http.StatusNotFound)
		return
	}
	defer f.Close()
	if drop > 0 {
		// Send drop bytes of the whole file, then cut the connection.
		fi, _ := f.Stat()
		w.Header().Set("Content-Length", strconv.FormatInt(fi.Size(), 10))
		w.WriteHeader(http.StatusOK)
		io.CopyN(w, f, drop)
		w.(http.Flusher).Flush()
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
			}
		}
		return
	}
	fi, _ := f.Stat()
	http.ServeContent(w, r, "artifact.mender", fi.ModTime(), f)
}
