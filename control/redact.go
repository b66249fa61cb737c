package control

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// Redacted replaces a secret value in diagnostic output.
const Redacted = "<redacted>"

// secretWords mark keys whose values are secrets. Key and certificate file
// paths are not secrets (the files themselves never enter a bundle).
var secretWords = []string{"password", "passphrase", "secret", "token", "psk", "private"}

func isSecretKey(k string) bool {
	k = strings.ToLower(k)
	if strings.HasSuffix(k, "_file") || strings.HasSuffix(k, "_path") || strings.HasSuffix(k, "_dir") {
		return false
	}
	for _, w := range secretWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// RedactYAML marshals v (a configuration) to YAML with the values of
// secret-looking keys replaced by Redacted, and any PEM block that a value
// might hold replaced too.
func RedactYAML(v any) ([]byte, error) {
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		return nil, fmt.Errorf("control: redact: %w", err)
	}
	redactNode(&n)
	b, err := yaml.Marshal(&n)
	if err != nil {
		return nil, fmt.Errorf("control: redact: %w", err)
	}
	return b, nil
}

func redactNode(n *yaml.Node) {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if isSecretKey(k.Value) && v.Kind == yaml.ScalarNode && v.Value != "" {
				v.Value, v.Tag, v.Style = Redacted, "!!str", 0
				continue
			}
			redactNode(v)
		}
		return
	}
	if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "-----BEGIN") {
		n.Value, n.Tag, n.Style = Redacted, "!!str", 0
		return
	}
	for _, c := range n.Content {
		redactNode(c)
	}
}
