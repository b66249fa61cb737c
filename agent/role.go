package agent

import "fmt"

// Role says which components this process runs.
type Role string

// The roles. RoleAll runs acquisition and uplink in one process.
const (
	RoleAll     Role = "all"
	RoleAcquire Role = "acquire"
	RoleUplink  Role = "uplink"
)

// ParseRole checks a --role value.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleAll, RoleAcquire, RoleUplink:
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q (want all, acquire or uplink)", s)
}

func (r Role) acquires() bool { return r == RoleAll || r == RoleAcquire }
func (r Role) uplinks() bool  { return r == RoleAll || r == RoleUplink }
