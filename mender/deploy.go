package mender

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"time"

	"medagent/handoff"
	"medagent/update/artifact"
)

// instructions is the next deployment (DeploymentInstructions).
type instructions struct {
	ID       string `json:"id"`
	Artifact struct {
		ID     string `json:"id,omitempty"`
		Name   string `json:"artifact_name"`
		Source struct {
			URI    string    `json:"uri"`
			Expire time.Time `json:"expire,omitzero"`
		} `json:"source"`
		DeviceTypes []string `json:"device_types_compatible"`
	} `json:"artifact"`
}

// errAborted: the server answered 409 to a status: the deployment was
// aborted and takes no more statuses.
var errAborted = errors.New("mender: deployment aborted on the server")

// next asks for the next deployment: POST with the provides, GET on 404.
// nil means nothing to do.
func (c *Client) next(ctx context.Context) (*instructions, error) {
	prov, err := c.dev.Provides()
	if err != nil {
		return nil, fmt.Errorf("mender: provides: %w", err)
	}
	if prov["device_type"] == "" || prov["artifact_name"] == "" {
		return nil, fmt.Errorf("mender: provides lack device_type or artifact_name: %v", prov)
	}
	c.update(func(s *Status) { s.LastPoll = c.now() })
	code, body, resp, err := c.call(ctx, "next deployment", http.MethodPost, pathNext, nil,
		map[string]any{"device_provides": prov}, true)
	if err != nil {
		return nil, err
	}
	if code == http.StatusNotFound || code == http.StatusMethodNotAllowed {
		q := url.Values{"artifact_name": {prov["artifact_name"]}, "device_type": {prov["device_type"]}}
		if code, body, resp, err = c.call(ctx, "next deployment", http.MethodGet, pathNext, q, nil, true); err != nil {
			return nil, err
		}
	}
	switch code {
	case http.StatusNoContent:
		return nil, nil
	case http.StatusConflict:
		// The server holds the device out of deployments for now.
		c.log.Info("mender: next deployment: 409, nothing for now")
		return nil, nil
	case http.StatusOK:
		return decodeInstructions(body)
	}
	return nil, c.statusError("next deployment", resp, body)
}

// decodeInstructions reads the server's DeploymentInstructions. The link
// must be https (the artifact is verified anyway, but a plain link would
// show what the device installs to the network).
func decodeInstructions(body []byte) (*instructions, error) {
	var d instructions
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, fmt.Errorf("mender: next deployment: %w", err)
	}
	if d.ID == "" || d.Artifact.Name == "" || d.Artifact.Source.URI == "" {
		return nil, errors.New("mender: next deployment: id, artifact name or source missing")
	}
	if len(d.ID) > 128 || len(d.Artifact.Name) > 256 {
		return nil, errors.New("mender: next deployment: id or artifact name too long")
	}
	u, err := url.Parse(d.Artifact.Source.URI)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("mender: next deployment: source %q is not an https URL", clean(d.Artifact.Source.URI, 100))
	}
	return &d, nil
}

// report sets the deployment's status on the server.
func (c *Client) report(ctx context.Context, s *deployState, status, substate string) error {
	if s.Reported == status {
		return nil
	}
	body := map[string]string{"status": status}
	if substate != "" {
		body["substate"] = clean(substate, 200)
	}
	var err error
	for try := range 3 {
		var code int
		var b []byte
		var resp *http.Response
		code, b, resp, err = c.call(ctx, "deployment status", http.MethodPut, pathDeployment+url.PathEscape(s.Deploy.ID)+"/status", nil, body, true)
		switch {
		case err == nil && code == http.StatusNoContent:
			s.Reported = status
			c.update(func(st *Status) { st.DeployState = status })
			c.log.Info("mender: deployment status", "deployment", s.Deploy.ID, "status", status)
			return c.saveState(s)
		case err == nil && code == http.StatusConflict:
			return errAborted
		case err == nil:
			err = c.statusError("deployment status", resp, b)
		}
		if ctx.Err() != nil {
			return err
		}
		if c.sleep(ctx, c.backoff(try)) != nil {
			return err
		}
	}
	return err
}

// uploadLog sends the deployment log (on failure).
func (c *Client) uploadLog(ctx context.Context, s *deployState) {
	if len(s.Log) == 0 {
		s.logf(c.now(), "ERROR", "failure without a message")
	}
	code, b, resp, err := c.call(ctx, "deployment log", http.MethodPut, pathDeployment+url.PathEscape(s.Deploy.ID)+"/log", nil,
		map[string]any{"messages": s.Log}, true)
	if err == nil && code != http.StatusNoContent {
		err = c.statusError("deployment log", resp, b)
	}
	if err != nil {
		c.log.Warn("mender: deployment log not uploaded", "deployment", s.Deploy.ID, "err", err)
	}
}

// fail reports failure with the reason in the log, uploads the log and
// forgets the deployment.
func (c *Client) fail(ctx context.Context, s *deployState, format string, a ...any) {
	s.logf(c.now(), "ERROR", format, a...)
	c.log.Warn("mender: deployment failed", "deployment", s.Deploy.ID, "reason", s.Log[len(s.Log)-1].Message)
	if err := c.report(ctx, s, "failure", ""); err != nil && !errors.Is(err, errAborted) {
		c.log.Warn("mender: could not report failure", "deployment", s.Deploy.ID, "err", err)
	}
	c.uploadLog(ctx, s)
	c.finish(s)
}

func (c *Client) finish(s *deployState) {
	c.clearState()
	c.update(func(st *Status) { st.Deployment, st.Artifact, st.Downloaded = "", "", 0 })
}

// deploy runs a new deployment up to the hand-off, then follows it.
func (c *Client) deploy(ctx context.Context, d *instructions) error {
	s := &deployState{Deploy: *d}
	c.update(func(st *Status) { st.Deployment, st.Artifact, st.DeployState = d.ID, d.Artifact.Name, "" })
	prov, err := c.dev.Provides()
	if err != nil {
		return fmt.Errorf("mender: provides: %w", err)
	}
	s.logf(c.now(), "INFO", "deployment %s of %s to %s", d.ID, d.Artifact.Name, prov["artifact_name"])
	if d.Artifact.Name == prov["artifact_name"] {
		err := c.report(ctx, s, "already-installed", "")
		c.finish(s)
		return ignoreAborted(err)
	}
	if !slices.Contains(d.Artifact.DeviceTypes, prov["device_type"]) {
		c.fail(ctx, s, "device type %s is not among the artifact's %v", prov["device_type"], d.Artifact.DeviceTypes)
		return nil
	}
	if err := c.saveState(s); err != nil {
		return err
	}
	if err := c.report(ctx, s, "downloading", ""); err != nil {
		c.finish(s)
		return ignoreAborted(err)
	}
	file, digest, err := c.download(ctx, s)
	if err != nil {
		if ctx.Err() != nil {
			return nil // resumed at the next start
		}
		if errors.Is(err, errAborted) {
			c.finish(s)
			return nil
		}
		c.fail(ctx, s, "download: %v", err)
		return nil
	}
	// The server is never trusted for integrity: medagent's own verifier,
	// the device's update keys. Acquire verifies again before installing.
	if err := c.verify(ctx, file, prov); err != nil {
		os.Remove(file)
		c.fail(ctx, s, "artifact refused: %v", err)
		return nil
	}
	s.logf(c.now(), "INFO", "artifact %s verified (%s)", d.Artifact.Name, digest)
	if err := c.report(ctx, s, "installing", ""); err != nil {
		os.Remove(file)
		c.finish(s)
		return ignoreAborted(err)
	}
	id, err := c.inst.Submit(ctx, handoff.Item{Kind: handoff.KindArtifact, File: file,
		Source: redact(d.Artifact.Source.URI), Digest: digest, Deployment: d.ID})
	if err != nil {
		os.Remove(file)
		c.fail(ctx, s, "hand-off to the installer: %v", err)
		return nil
	}
	s.Item = id
	s.logf(c.now(), "INFO", "handed to the installer as item %s", id)
	if err := c.saveState(s); err != nil {
		return err
	}
	return c.follow(ctx, s)
}

func ignoreAborted(err error) error {
	if errors.Is(err, errAborted) {
		return nil
	}
	return err
}

// redact drops the query (a pre-signed link's signature) from u.
func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	p.RawQuery, p.Fragment, p.User = "", "", nil
	return clean(p.String(), 1024)
}

func (c *Client) verify(ctx context.Context, file string, prov map[string]string) error {
	if len(c.keys) == 0 {
		return nil // acquire verifies, with all the keys
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = artifact.Read(ctx, f, artifact.Options{Keys: c.keys, DeviceType: prov["device_type"], Provides: prov})
	return err
}

// follow reports acquire's progress with the item until it is final.
func (c *Client) follow(ctx context.Context, s *deployState) error {
	for {
		st, err := c.inst.State(s.Item)
		if errors.Is(err, handoff.ErrNotFound) {
			c.fail(ctx, s, "the installer lost item %s", s.Item)
			return nil
		}
		if err != nil {
			return fmt.Errorf("mender: installer state: %w", err)
		}
		status, sub := "", ""
		switch st.Phase {
		case handoff.Queued, handoff.Received, handoff.Verifying, handoff.Installing:
			status = "installing"
		case handoff.RebootPending:
			status, sub = "pause_before_rebooting", st.Reason
		case handoff.Rebooting:
			status = "rebooting"
		case handoff.Success:
			s.logf(c.now(), "INFO", "installed and committed")
			err := c.report(ctx, s, "success", "")
			c.finish(s)
			return ignoreAborted(err)
		case handoff.Failure:
			c.fail(ctx, s, "install: %s", st.Reason)
			return nil
		}
		if status != "" && status != s.Reported {
			if status == "pause_before_rebooting" {
				s.logf(c.now(), "INFO", "reboot held: %s", sub)
			}
			if err := c.report(ctx, s, status, sub); err != nil {
				if errors.Is(err, errAborted) {
					c.finish(s)
					return nil
				}
				return err
			}
		}
		if err := c.sleep(ctx, time.Second); err != nil {
			return nil
		}
	}
}
