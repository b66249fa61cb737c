package remote

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"medagent/handoff"
	"medagent/trust/command"
)

// Submitter is the hand-off as a producer uses it.
type Submitter interface {
	Submit(ctx context.Context, it handoff.Item) (string, error)
}

// Forward returns the uplink's handler of the command topic. It makes
// only cheap checks (size, the envelope's JSON shape, this device's id)
// and hands the signed bytes, unchanged, to acquire through the hand-off;
// acquire verifies the signature, expiry and nonce with its own keyring
// and spools the result, which the uplink then publishes on cmd-result.
// The handler returns a result to publish at once only when the message
// is refused here or cannot be handed over (nil otherwise).
func Forward(h Submitter, deviceID string, log *slog.Logger, now func() time.Time) func(ctx context.Context, payload []byte) []byte {
	if now == nil {
		now = time.Now
	}
	refuse := func(payload []byte, err error) []byte {
		r := command.ResultFor(deviceID, now(), payload, command.Command{}, err, nil)
		log.Warn("command refused by the uplink's pre-check", "name", r.Name, "code", r.Code, "err", err)
		b, _ := json.Marshal(r)
		return b
	}
	return func(ctx context.Context, payload []byte) []byte {
		e, err := command.Decode(payload) // bounds the size and the shape
		if err != nil {
			return refuse(payload, err)
		}
		if e.Device != deviceID {
			return refuse(payload, fmt.Errorf("%w: %q (this is %q)", command.ErrWrongDevice, e.Device, deviceID))
		}
		id, err := h.Submit(ctx, handoff.Item{Kind: handoff.KindCommand, Envelope: payload})
		if err != nil {
			r := command.Result{Device: deviceID, Nonce: base64.StdEncoding.EncodeToString(e.Nonce), Name: e.Name,
				Status: command.StatusFailed, Error: "not handed to the acquire role: " + err.Error(), At: now().UTC()}
			if errors.Is(err, handoff.ErrFull) {
				r.Error += " (retry later with a new nonce)"
			}
			log.Error("command not handed over", "name", e.Name, "err", err)
			b, _ := json.Marshal(r)
			return b
		}
		log.Info("command handed to the acquire role", "name", e.Name, "item", id)
		return nil
	}
}
