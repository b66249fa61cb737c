package uplink

import (
	"context"
	"fmt"

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
// Results are published at QoS 1 without waiting for their PUBACK.
func (u *Uplink) subscribeCommands(ctx context.Context, c mqtt.Client) error {
	if u.opts.Commands == nil {
		return nil
	}
	handle := func(c mqtt.Client, m mqtt.Message) {
		res := u.opts.Commands(ctx, m.Payload())
		if res != nil {
			c.Publish(u.resultTopic(), 1, false, res)
		}
	}
	if err := waitToken(ctx, c.Subscribe(u.commandTopic(), 1, handle), u.opts.AckTimeout); err != nil {
		return fmt.Errorf("uplink: subscribe %s: %w", u.commandTopic(), err)
	}
	return nil
}
