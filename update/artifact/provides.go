package artifact

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
)

// checkCompatible checks the header's depends against the device type and
// the device's stored provides.
func checkCompatible(h *Header, deviceType string, provides map[string]string) error {
	if deviceType == "" {
		return fmt.Errorf("artifact: device type not configured (Options.DeviceType): %w", ErrDeviceType)
	}
	if !slices.Contains(h.DeviceTypes, deviceType) {
		return fmt.Errorf("artifact: %q is for device types %q, this device is %q: %w", h.Name, h.DeviceTypes, deviceType, ErrDeviceType)
	}
	if err := dependsOneOf("artifact_name", h.DependsNames, provides); err != nil {
		return err
	}
	if err := dependsOneOf("artifact_group", h.DependsGroups, provides); err != nil {
		return err
	}
	for i, p := range h.Payloads {
		keys := slices.Sorted(maps.Keys(p.Depends))
		for _, k := range keys {
			if err := dependsOneOf(k, p.Depends[k], provides); err != nil {
				return fmt.Errorf("payload %d: %w", i, err)
			}
		}
	}
	return nil
}

func dependsOneOf(key string, want []string, provides map[string]string) error {
	if len(want) == 0 {
		return nil
	}
	have, ok := provides[key]
	if !ok {
		return fmt.Errorf("artifact: depends on %s in %q, device provides none: %w", key, want, ErrDepends)
	}
	if !slices.Contains(want, have) {
		return fmt.Errorf("artifact: depends on %s in %q, device provides %q: %w", key, want, have, ErrDepends)
	}
	return nil
}

// NewProvides returns the provides a device stores after installing the
// artifact h over stored (which is not modified): for each payload, keys
// matching its clears_artifact_provides patterns are removed, then its
// artifact_provides are added; finally artifact_name (and artifact_group
// when the artifact provides one) are set from header-info.
//
// When a payload has no clears_artifact_provides field (artifacts older
// than mender-artifact 3.5), a rootfs-image clears everything and other
// payload types clear nothing, as the Mender client does.
func NewProvides(stored map[string]string, h *Header) (map[string]string, error) {
	out := maps.Clone(stored)
	if out == nil {
		out = map[string]string{}
	}
	for _, p := range h.Payloads {
		if p.ClearsProvides == nil && p.Type == "rootfs-image" {
			clear(out)
		}
		for _, pat := range p.ClearsProvides {
			if pat == "" {
				return nil, fmt.Errorf("artifact: empty clears_artifact_provides pattern: %w", ErrFormat)
			}
			for k := range out {
				if globMatch(pat, k) {
					delete(out, k)
				}
			}
		}
		maps.Copy(out, p.Provides)
	}
	maps.Copy(out, h.Provides)
	out["artifact_name"] = h.Name
	return out, nil
}

// globMatch reports whether s matches pattern, where '*' matches any
// sequence of characters (including none) and every other character
// matches itself, as in Mender's clears_artifact_provides.
func globMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return len(s) >= len(last) && strings.HasSuffix(s, last)
}

// sortedKeys returns m's keys in order (for stable output).
func sortedKeys(m map[string]string) []string {
	k := make([]string, 0, len(m))
	for key := range m {
		k = append(k, key)
	}
	sort.Strings(k)
	return k
}

func sortStrings(s []string) { sort.Strings(s) }
