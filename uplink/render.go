package uplink

import (
	"encoding/json"
	"fmt"

	"medagent/senml"
	"medagent/spool"
	"medagent/telemetry"
)

// render returns the topic and payload of rec.
func (u *Uplink) render(rec spool.Record) (string, []byte, error) {
	if !topicSegment.MatchString(rec.Stream) {
		return "", nil, fmt.Errorf("uplink: stream name not usable in a topic")
	}
	if rec.Class.Topic() == "unknown" {
		return "", nil, fmt.Errorf("uplink: unknown class %d", rec.Class)
	}
	p, err := telemetry.Unmarshal(rec.Payload)
	if err != nil {
		return "", nil, fmt.Errorf("uplink: %w", err)
	}
	if p.Stream != rec.Stream || p.Class != rec.Class {
		return "", nil, fmt.Errorf("uplink: pack is for %s/%s, record for %s/%s", p.Class, p.Stream, rec.Class, rec.Stream)
	}
	if rec.Stream == telemetry.StreamCommandResult {
		// Results of signed commands, which acquire spools, go out as
		// the JSON the back end reads on cmd-result.
		b, ok := p.CommandResult()
		if !ok || !json.Valid(b) {
			return "", nil, fmt.Errorf("uplink: command result record is not one JSON result")
		}
		return u.resultTopic(), b, nil
	}
	b, err := senml.Encode(make([]byte, 0, 64+64*len(p.Records)), p, rec.Seq, u.opts.BaseName, u.format)
	if err != nil {
		return "", nil, fmt.Errorf("uplink: %w", err)
	}
	return u.topic(rec.Class.Topic(), rec.Stream), b, nil
}

func (u *Uplink) topic(class, stream string) string {
	return u.opts.TopicPrefix + "/" + u.opts.DeviceID + "/" + class + "/" + stream
}

func (u *Uplink) statusTopic() string {
	return u.opts.TopicPrefix + "/" + u.opts.DeviceID + "/status"
}
