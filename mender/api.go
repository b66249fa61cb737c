package mender

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// API paths (deviceauth, inventory and deployments device APIs v1).
const (
	pathAuth       = "/api/devices/v1/authentication/auth_requests"
	pathInventory  = "/api/devices/v1/inventory/device/attributes"
	pathNext       = "/api/devices/v1/deployments/device/deployments/next"
	pathDeployment = "/api/devices/v1/deployments/device/deployments/"
)

// maxBody bounds any API answer the client reads.
const maxBody = 64 << 10

// StatusError is an API answer other than the one expected.
type StatusError struct {
	Op         string
	Code       int
	RetryAfter time.Duration // from a 429's Retry-After, else 0
	Message    string        // the server's error text, if any
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("mender: %s: HTTP %d", e.Op, e.Code)
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %v)", e.RetryAfter)
	}
	return s
}

// ErrNotAccepted: the server does not (yet) accept the device.
var ErrNotAccepted = errors.New("mender: device not accepted by the server (yet): an operator must accept it")

// retryAfter parses a Retry-After header (seconds or an HTTP date),
// bounded to an hour; 0 if absent or unreadable.
func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	var d time.Duration
	if s, err := strconv.Atoi(h); err == nil {
		d = time.Duration(s) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), time.Hour)
}

func (c *Client) statusError(op string, resp *http.Response, body []byte) *StatusError {
	e := &StatusError{Op: op, Code: resp.StatusCode}
	if resp.StatusCode == http.StatusTooManyRequests {
		e.RetryAfter = max(retryAfter(resp.Header.Get("Retry-After"), c.now()), time.Second)
	}
	var msg struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &msg) == nil {
		e.Message = clean(msg.Error, 200)
	}
	return e
}

// clean keeps printable ASCII of s, at most n bytes: server text goes into
// logs and status.
func clean(s string, n int) string {
	b := make([]byte, 0, min(len(s), n))
	for i := 0; i < len(s) && len(b) < n; i++ {
		if s[i] >= 0x20 && s[i] < 0x7f {
			b = append(b, s[i])
		}
	}
	return string(b)
}

// call makes one API call and returns the status and body (bounded). With
// auth it sends the JWT, authenticating first if there is none, and on a
// 401 authenticates again and repeats the call once.
func (c *Client) call(ctx context.Context, op, method, path string, q url.Values, body any, auth bool) (int, []byte, *http.Response, error) {
	var data []byte
	if body != nil {
		var err error
		if data, err = json.Marshal(body); err != nil {
			return 0, nil, nil, fmt.Errorf("mender: %s: %w", op, err)
		}
	}
	for try := 0; ; try++ {
		var token string
		if auth {
			var err error
			if token, err = c.token(ctx); err != nil {
				return 0, nil, nil, err
			}
		}
		code, b, resp, err := c.do(ctx, op, method, path, q, data, token, nil)
		if err != nil {
			return 0, nil, nil, err
		}
		if auth && code == http.StatusUnauthorized && try == 0 {
			c.dropToken(token) // expired or revoked: authenticate again
			continue
		}
		return code, b, resp, nil
	}
}

// do sends one request and reads at most maxBody of the answer.
func (c *Client) do(ctx context.Context, op, method, path string, q url.Values, data []byte, token string, hdr http.Header) (int, []byte, *http.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.o.RequestTimeout)
	defer cancel()
	u := c.base.JoinPath(path)
	u.RawQuery = q.Encode()
	var rd io.Reader
	if data != nil {
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("mender: %s: %w", op, err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if data != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("mender: %s: %w", op, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("mender: %s: read answer: %w", op, err)
	}
	if len(b) > maxBody {
		return 0, nil, nil, fmt.Errorf("mender: %s: answer over %d bytes", op, maxBody)
	}
	return resp.StatusCode, b, resp, nil
}
