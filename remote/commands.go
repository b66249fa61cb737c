package remote

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"medagent/handoff"
	"medagent/trust/command"
	"medagent/trust/keyring"
)

// errTrust marks a refusal because the keyring or nonce store is unusable.
var errTrust = errors.New("commands cannot be verified")

// trustCode is the result code of a command refused for errTrust.
const trustCode = "trust-unavailable"

// command verifies a command item with acquire's own keyring and nonce
// store and runs it; its result goes to the spool.
func (s *Service) command(ctx context.Context, in *handoff.Incoming) {
	st := handoff.State{ID: in.Meta.ID, Kind: handoff.KindCommand, Phase: handoff.Verifying}
	s.set(st)
	payload, err := in.Envelope()
	if err != nil {
		s.fail(st, err.Error())
		s.audit("command.refused", map[string]string{"item": st.ID, "code": "malformed", "reason": err.Error()})
		s.publish(ctx, command.ResultFor(s.o.DeviceID, s.o.Now(), nil, command.Command{}, fmt.Errorf("%w: %v", command.ErrMalformed, err), nil))
		return
	}
	v, _, err := s.loadTrust()
	if err != nil {
		st = s.fail(st, fmt.Sprintf("%v: %v", errTrust, err))
		r := command.ResultFor(s.o.DeviceID, s.o.Now(), payload, command.Command{}, err, nil)
		r.Code, r.Error = trustCode, st.Reason
		s.audit("command.refused", map[string]string{"item": st.ID, "code": trustCode, "reason": st.Reason})
		s.publish(ctx, r)
		return
	}
	now := s.o.Now()
	cmd, err := v.Verify(now, payload)
	if err != nil {
		s.fail(st, err.Error())
		res := command.ResultFor(s.o.DeviceID, now, payload, cmd, err, nil)
		s.audit("command.refused", map[string]string{"item": st.ID, "name": res.Name, "key_id": cmd.KeyID, "code": res.Code, "reason": err.Error()})
		s.publish(ctx, res)
		return
	}
	st.Name, st.Nonce = cmd.Name, cmd.Nonce
	s.log.Info("command verified", "item", st.ID, "name", cmd.Name, "key", cmd.KeyID)
	if err := s.dispatch(ctx, &st, cmd); err != nil {
		s.fail(st, err.Error())
		s.audit("command.failed", map[string]string{"item": st.ID, "name": cmd.Name, "key_id": cmd.KeyID, "nonce": cmd.Nonce, "reason": err.Error()})
		s.publish(ctx, s.result(st, command.StatusFailed, err.Error()))
		return
	}
	s.audit("command.accepted", map[string]string{"item": st.ID, "name": cmd.Name, "key_id": cmd.KeyID, "nonce": cmd.Nonce})
	if st.Phase == handoff.Fetch {
		s.set(st)
		s.publish(ctx, s.result(st, command.StatusAccepted, ""))
		return
	}
	st.Phase = handoff.Success
	s.set(st)
	s.publish(ctx, s.result(st, command.StatusDone, ""))
}

// dispatch runs a verified command. An update moves st to phase Fetch:
// the producer is asked to download what the signed command names.
func (s *Service) dispatch(ctx context.Context, st *handoff.State, cmd command.Command) error {
	switch cmd.Name {
	case command.Diagnostics:
		return nil
	case command.Config:
		_, ring, err := s.loadTrust()
		if err != nil {
			return err
		}
		applied, err := ring.Apply(cmd)
		if applied {
			f := map[string]string{"signer": cmd.KeyID, "version": cmd.Args["keyring.version"], "set": cmd.Args["keyring.set"],
				"add_id": cmd.Args["keyring.add_id"], "retire_id": cmd.Args["keyring.retire_id"]}
			if _, ok := cmd.Args[keyring.UpdateSigArg]; ok {
				f["update_signed"] = "yes"
			}
			if err != nil {
				f["reason"] = err.Error()
				s.audit("keyring.refused", f)
			} else {
				s.audit("keyring.changed", f)
			}
		}
		if err != nil {
			return err
		}
		if !applied {
			return errors.New("only keyring changes are supported by the config command")
		}
		return nil
	case command.Reboot:
		if s.o.Reboot == nil {
			return errors.New("reboot is not available (no reboot command configured)")
		}
		if s.o.Patient != nil && s.o.Patient.Monitoring(s.o.Grace) {
			return errors.New("refused: a patient is being monitored (clinical-use lock); reboot from the technician shell")
		}
		return s.queue(func(ctx context.Context) {
			if err := s.o.Reboot(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("reboot command failed", "err", err)
			}
		})
	case command.Update:
		if s.o.Updates == nil {
			return errors.New("updates are not enabled on this device (update.enabled)")
		}
		req, err := fetchRequest(cmd)
		if err != nil {
			return err
		}
		st.Phase, st.Fetch = handoff.Fetch, req
		return nil
	}
	return fmt.Errorf("unknown command %q", cmd.Name)
}

// fetchRequest checks an update command's arguments: an https url and the
// artifact's digest, which binds the download to the signed command.
func fetchRequest(cmd command.Command) (*handoff.FetchRequest, error) {
	raw, digest := cmd.Args["url"], cmd.Args["digest"]
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || len(raw) > 2048 {
		return nil, fmt.Errorf("update needs args url (https, at most 2048 bytes), got %q", raw)
	}
	if !handoff.ValidDigest(digest) {
		return nil, fmt.Errorf("update needs arg digest (sha256:<64 lowercase hex digits> of the artifact), got %q", digest)
	}
	fr := &handoff.FetchRequest{URL: u.String(), Digest: digest}
	if dg, ok := cmd.Args["allow_downgrade"]; ok {
		if dg == "" || len(dg) > 256 || strings.ContainsFunc(dg, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return nil, fmt.Errorf("update arg allow_downgrade must be the artifact_name the downgrade is for, got %q", dg)
		}
		fr.AllowDowngrade = dg
	}
	return fr, nil
}
