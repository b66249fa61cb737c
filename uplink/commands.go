package uplink

import (
	"context"
	"fmt"
	"strings"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// CommandFunc handles one message from the device's command topic and
// returns the result to publish on its cmd-result topic. It is called on
// the MQTT client's receive path, so it must be quick: verify, start the
// work, answer. The uplink trusts nothing in the message: the handler
// verifies its signature (trust/command), so that whoever owns the broker
// cannot command the device.
type CommandFunc func(ctx context.Context, payload []byte) []byte

func (u *Uplink) commandTopic() string {
	return u.opts.TopicPrefix + "/" + u.opts.DeviceID + "/cmd/#"
}

func (u *Uplink) resultTopic() string {
	return u.opts.TopicPrefix + "/" + u.opts.DeviceID + "/cmd-result"
}

// subscribeCommands subscribes to the command topic when a handler is set.
// Results are published at QoS 1 without waiting for their PUBACK. The
// handler runs with ctx; the SUBACK is awaited until wait is done.
func (u *Uplink) subscribeCommands(ctx, wait context.Context, c mqtt.Client) error {
	if u.opts.Commands == nil {
		return nil
	}
	tok := c.Subscribe(u.commandTopic(), 1, u.commandHandler(ctx))
	if err := waitToken(wait, tok, u.opts.AckTimeout); err != nil {
		return fmt.Errorf("uplink: subscribe %s: %w", u.commandTopic(), err)
	}
	// The broker answers a refused subscription with return code 0x80 in
	// the SUBACK, which the client does not report as an error.
	if st, ok := tok.(*mqtt.SubscribeToken); ok {
		if code, found := st.Result()[u.commandTopic()]; found && code > 2 {
			return fmt.Errorf("uplink: subscribe %s: refused by the broker (SUBACK 0x%02x): check the device's subscribe permissions", u.commandTopic(), code)
		}
	}
	return nil
}

// commandHandler passes messages on the device's command topic to
// Commands and publishes the result. Anything else (a topic the session
// kept from an older configuration) is ignored.
func (u *Uplink) commandHandler(ctx context.Context) mqtt.MessageHandler {
	prefix := u.opts.TopicPrefix + "/" + u.opts.DeviceID + "/cmd/"
	return func(c mqtt.Client, m mqtt.Message) {
		if !strings.HasPrefix(m.Topic(), prefix) {
			return
		}
		if res := u.opts.Commands(ctx, m.Payload()); res != nil {
			c.Publish(u.resultTopic(), 1, false, res)
		}
	}
}
