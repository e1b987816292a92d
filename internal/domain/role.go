package domain

import (
	"slices"
	"strings"
)

// Role is what a user may do in Rectify.
type Role string

// The roles of PRODUCT.md.
const (
	RoleInspector Role = "inspector" // 检查人
	RoleOwner     Role = "owner"     // 责任人
	RoleVerifier  Role = "verifier"  // 工作小组
	RoleLeader    Role = "leader"    // 领导
	RoleAdmin     Role = "admin"
)

// Roles lists every role.
func Roles() []Role { return []Role{RoleInspector, RoleOwner, RoleVerifier, RoleLeader, RoleAdmin} }

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles(), r) }

// Actor is the authenticated user on whose behalf something is done.
type Actor struct {
	UserID   int64
	Username string
	Name     string
	Roles    []Role
	UnitID   int64
	UnitPath string // materialised path of the actor's unit, e.g. "/1/4/"
}

// Has reports whether the actor holds the role.
func (a Actor) Has(r Role) bool { return slices.Contains(a.Roles, r) }

// HasAny reports whether the actor holds any of the roles.
func (a Actor) HasAny(rs ...Role) bool {
	for _, r := range rs {
		if a.Has(r) {
			return true
		}
	}
	return false
}

// SeesAllProblems reports whether the actor reads every problem regardless of unit.
func (a Actor) SeesAllProblems() bool {
	return a.HasAny(RoleInspector, RoleVerifier, RoleLeader)
}

// ReadsAudit reports whether the actor may read the audit trail.
func (a Actor) ReadsAudit() bool { return a.HasAny(RoleVerifier, RoleLeader, RoleAdmin) }

// RoleNames renders roles as strings, sorted for stable output.
func RoleNames(rs []Role) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	slices.Sort(out)
	return out
}

// ParseRoles validates a list of role names; duplicates are dropped.
func ParseRoles(names []string) ([]Role, error) {
	var out []Role
	for _, n := range names {
		r := Role(strings.TrimSpace(n))
		if !r.Valid() {
			return nil, Invalid("roles", "unknown role %q; known: inspector, owner, verifier, leader, admin", n)
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, Invalid("roles", "at least one role is required")
	}
	slices.Sort(out)
	return out, nil
}

// InSubtree reports whether the unit with path child lies in the subtree rooted at path root.
func InSubtree(child, root string) bool {
	return root != "" && strings.HasPrefix(child, root)
}
