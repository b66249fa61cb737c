package mender

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

func jsonBody(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("mender: encode: %w", err)
	}
	return b, nil
}

// sendInventory PATCHes the attributes when they differ from last or
// force is set; it returns what was sent.
func (c *Client) sendInventory(ctx context.Context, last []byte, force bool) ([]byte, error) {
	attrs, err := c.dev.Inventory()
	if err != nil {
		return last, fmt.Errorf("mender: inventory: %w", err)
	}
	b, err := jsonBody(attrs)
	if err != nil {
		return last, err
	}
	if !force && bytes.Equal(b, last) {
		return last, nil
	}
	code, body, resp, err := c.call(ctx, "inventory", http.MethodPatch, pathInventory, nil, attrs, true)
	if err != nil {
		return last, err
	}
	if code != http.StatusOK {
		return last, c.statusError("inventory", resp, body)
	}
	c.log.Info("mender: inventory sent", "attributes", len(attrs))
	return b, nil
}
