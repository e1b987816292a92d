package app

import (
	"errors"
	"slices"

	"github.com/rectify-team/rectify/internal/domain"
)

// AuthSource is the way a user signs in; an admin sets it per user.
type AuthSource string

// The ways in. The first admin is always local, so that a broken directory
// never locks everyone out.
const (
	AuthLocal AuthSource = "local"
	AuthLDAP  AuthSource = "ldap"
	AuthOIDC  AuthSource = "oidc"
)

// AuthSources lists the ways in, in the order clients show them.
func AuthSources() []AuthSource { return []AuthSource{AuthLocal, AuthLDAP, AuthOIDC} }

// Valid reports a known source.
func (a AuthSource) Valid() bool { return slices.Contains(AuthSources(), a) }

// DirectoryPerson is what a directory (LDAP, Active Directory) or an OpenID
// provider says about a person.
type DirectoryPerson struct {
	Username string   // the sign-in name
	Name     string   // the display name; "" keeps the username
	Groups   []string // group names or DNs, as the mapping's table names them
	Unit     []string // the unit's names, outermost first (one value for an attribute, several for an OU path)
	Subject  string   // the entry's DN or the token's subject, for the trail
}

// What a directory or an identity provider answers besides a person. They
// are wrapped, never compared with ==.
var (
	// ErrDirectoryUnavailable: the directory or the provider does not answer
	// (or its TLS is wrong). The API answers 503 directory_unavailable.
	ErrDirectoryUnavailable = errors.New("the directory does not answer")
	// ErrNotInDirectory: no such person, or more than one.
	ErrNotInDirectory = errors.New("no such person in the directory")
	// ErrDisabledInDirectory: the person's entry is disabled or locked.
	ErrDisabledInDirectory = errors.New("disabled in the directory")
	// ErrDirectoryRefused: the directory refused the password.
	ErrDirectoryRefused = errors.New("the directory refused the password")
)

// DirectoryMapping turns what a directory says into roles and a unit.
type DirectoryMapping struct {
	// GroupRoles maps a group (its name, or its full DN; compared without
	// regard to case) to roles. A person in no mapped group may not sign in.
	GroupRoles map[string][]domain.Role
	// UnitByValue maps a value of the unit attribute to a unit id, for values
	// that are not the unit's name; other values match units by name.
	UnitByValue map[string]int64
	// DefaultUnitID is the unit of a new user whose unit matches none; 0 is
	// the root unit.
	DefaultUnitID int64
}

// IdentitySource describes a configured way in besides local accounts.
type IdentitySource struct {
	DisplayName string // shown on the sign-in page, e.g. "公司域账号"
	Mapping     DirectoryMapping
}

// Provider is one way of signing in, for GET /auth/providers.
type Provider struct {
	ID          AuthSource
	DisplayName string
}

// Audit actions of directory-driven changes, each its own entry.
const (
	ActionDirectoryCreate   = "directory_create"
	ActionDirectoryRename   = "directory_rename"
	ActionDirectoryRoleGain = "directory_role_gained"
	ActionDirectoryRoleLose = "directory_role_lost"
	ActionDirectoryUnitMove = "directory_unit_moved"
	ActionDirectoryDisable  = "directory_disabled"
)

// DirectoryAuditActions lists the actions above.
func DirectoryAuditActions() []string {
	return []string{ActionDirectoryCreate, ActionDirectoryRename, ActionDirectoryRoleGain, ActionDirectoryRoleLose,
		ActionDirectoryUnitMove, ActionDirectoryDisable}
}

// DirectorySyncLease is the lease the instance that syncs holds.
const DirectorySyncLease = "directory_sync"

// DirectorySyncReport says what one pass of the directory sync did.
type DirectorySyncReport struct {
	Leader   bool // this instance held the lease and made the pass
	Checked  int  // directory users looked up
	Updated  int  // whose name, roles or unit changed
	Disabled int  // removed or disabled in the directory: disabled here, sessions ended
}
