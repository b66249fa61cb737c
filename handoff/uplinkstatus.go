package handoff

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// uplinkStatusName is the uplink's broker state in the hand-off directory.
const uplinkStatusName = "uplink.status"

// UplinkStatus is the uplink's connection state, which the uplink role
// writes into the hand-off for acquire: the "broker reachable" health
// check after a trial boot reads it, and acquire spools a technical event
// when the reason the uplink waits changes. It is a claim of the uplink
// (only a health signal, never a permission).
type UplinkStatus struct {
	Format    int       `json:"format"`
	Connected bool      `json:"connected"`
	Broker    string    `json:"broker,omitempty"`
	Since     time.Time `json:"since,omitzero"`    // when Connected last changed
	Waiting   string    `json:"waiting,omitempty"` // why it is not connected
	// Security is the security state that keeps the uplink from even
	// trying (its certificate is not valid at the clock's time); acquire
	// reports it as a technical event.
	Security string    `json:"security,omitempty"`
	Updated  time.Time `json:"updated"` // written again every few seconds
}

const maxUplinkStatus = 4 << 10

// WriteUplinkStatus replaces uplink.status atomically (not fsynced: it is
// rewritten often and worth nothing after a power cut).
func (p *Producer) WriteUplinkStatus(s UplinkStatus) error {
	s.Format = Format
	if len(s.Waiting) > maxText {
		s.Waiting = s.Waiting[:maxText]
	}
	if len(s.Security) > maxText {
		s.Security = s.Security[:maxText]
	}
	if len(s.Broker) > maxURL {
		s.Broker = ""
	}
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("handoff: encode uplink status: %w", err)
	}
	if err := replaceFile(filepath.Join(p.o.Dir, uplinkStatusName), b); err != nil {
		return fmt.Errorf("handoff: write uplink status: %w", err)
	}
	return nil
}

// UplinkStatus reads what the uplink last wrote; os.ErrNotExist (wrapped)
// when it never did.
func (c *Consumer) UplinkStatus() (UplinkStatus, error) {
	root, err := os.OpenRoot(c.o.Dir)
	if err != nil {
		return UplinkStatus{}, fmt.Errorf("handoff: %w", err)
	}
	defer root.Close()
	b, err := readRegular(root, uplinkStatusName, maxUplinkStatus)
	if err != nil {
		return UplinkStatus{}, fmt.Errorf("handoff: uplink status: %w", err)
	}
	return DecodeUplinkStatus(b)
}

// DecodeUplinkStatus parses uplink.status strictly.
func DecodeUplinkStatus(b []byte) (UplinkStatus, error) {
	var s UplinkStatus
	if len(b) > maxUplinkStatus {
		return s, fmt.Errorf("handoff: uplink status of %d bytes, limit %d", len(b), maxUplinkStatus)
	}
	if err := decodeStrict(b, &s); err != nil {
		return UplinkStatus{}, fmt.Errorf("handoff: uplink status: %w", err)
	}
	if s.Format != Format {
		return UplinkStatus{}, fmt.Errorf("handoff: uplink status has format %d, want %d", s.Format, Format)
	}
	if !printable(s.Waiting, maxText) || !printable(s.Security, maxText) || !printable(s.Broker, maxURL) {
		return UplinkStatus{}, fmt.Errorf("handoff: uplink status: text fields too long or not printable")
	}
	return s, nil
}
