package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rectify-team/rectify/internal/audit"
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

// firstAdmin is the username Bootstrap gives the first admin.
const firstAdmin = "admin"

// DirectoryPerson is what a directory (LDAP, Active Directory) or an OpenID
// provider says about a person.
type DirectoryPerson struct {
	Username string   // the sign-in name
	Name     string   // the display name; "" keeps the username
	Groups   []string // group names or DNs, as the mapping's table names them
	Unit     []string // the unit's names, outermost first (one value for an attribute, several for an OU path)
	Subject  string   // the entry's DN or the token's subject, for the trail
}

// Directory is an LDAP or Active Directory server: identity providers sit
// behind this one seam (internal/ldapauth implements it).
type Directory interface {
	// Authenticate checks a person's password with the directory.
	Authenticate(ctx context.Context, username, password string) (*DirectoryPerson, error)
	// Lookup reads a person without their password, for the periodic sync.
	Lookup(ctx context.Context, username string) (*DirectoryPerson, error)
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

// WithDirectory signs users whose source is ldap (and unknown usernames) in
// through the directory.
func WithDirectory(d Directory, src IdentitySource) Option {
	return func(o *Options) { o.Directory, o.DirectorySrc = d, src }
}

// Provider is one way of signing in, for GET /auth/providers.
type Provider struct {
	ID          AuthSource
	DisplayName string
}

// Providers lists the configured ways in: local accounts always.
func (s *Service) Providers() []Provider {
	out := []Provider{{ID: AuthLocal, DisplayName: "Rectify"}}
	if s.dir != nil {
		out = append(out, Provider{ID: AuthLDAP, DisplayName: s.dirSrc.DisplayName})
	}
	if s.oidc != nil {
		out = append(out, Provider{ID: AuthOIDC, DisplayName: s.oidcSrc.DisplayName})
	}
	return out
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

// roles maps a person's groups to roles, sorted; none when no group is mapped.
func (m DirectoryMapping) roles(groups []string) []domain.Role {
	var out []domain.Role
	add := func(key string) {
		for _, r := range m.GroupRoles[strings.ToLower(strings.TrimSpace(key))] {
			if !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	for _, g := range groups {
		add(g)
		if cn, ok := firstRDNValue(g); ok { // "cn=Verifiers,ou=groups,dc=example,dc=org" is also "verifiers"
			add(cn)
		}
	}
	slices.Sort(out)
	return out
}

// firstRDNValue returns the value of a DN's first component.
func firstRDNValue(dn string) (string, bool) {
	first, _, _ := strings.Cut(dn, ",")
	_, v, ok := strings.Cut(first, "=")
	if !ok || !strings.Contains(dn, ",") {
		return "", false
	}
	return strings.TrimSpace(v), true
}

// unit finds the unit a person's unit names point at: the configured table
// first, then the units of that name, told apart by their parents' names.
// 0 when nothing matches.
func (m DirectoryMapping) unit(units []*Unit, names []string) int64 {
	if len(names) == 0 {
		return 0
	}
	last := strings.TrimSpace(names[len(names)-1])
	if id, ok := m.UnitByValue[last]; ok {
		return id
	}
	byID := make(map[int64]*Unit, len(units))
	for _, u := range units {
		byID[u.ID] = u
	}
	var match []*Unit
	for _, u := range units {
		if u.Name == last {
			match = append(match, u)
		}
	}
	// Several units of that name: keep those whose ancestors carry the outer
	// names; an outer name no unit carries (ou=people) tells nothing.
	for i := len(names) - 2; i >= 0 && len(match) > 1; i-- {
		var keep []*Unit
		for _, u := range match {
			if hasAncestorNamed(byID, u, strings.TrimSpace(names[i])) {
				keep = append(keep, u)
			}
		}
		if len(keep) > 0 {
			match = keep
		}
	}
	if len(match) == 1 {
		return match[0].ID
	}
	return 0
}

func hasAncestorNamed(byID map[int64]*Unit, u *Unit, name string) bool {
	for p := byID[u.ParentID]; p != nil; p = byID[p.ParentID] {
		if p.Name == name {
			return true
		}
	}
	return false
}

func (m DirectoryMapping) defaultUnit(units []*Unit) int64 {
	if m.DefaultUnitID > 0 {
		return m.DefaultUnitID
	}
	for _, u := range units {
		if u.ParentID == 0 {
			return u.ID
		}
	}
	return 0
}

// directoryCaller is the actor of directory-driven changes: the directory
// itself, from the request that made it look.
func directoryCaller(c Caller, src AuthSource) Caller {
	c.Actor = domain.Actor{Username: "directory:" + string(src)}
	c.Idempotency = nil
	return c
}

// applyPerson creates the user a directory person is, or brings an existing
// one up to date (name, roles, unit), appending an entry for each change,
// inside the caller's transaction. roles is the mapping's non-empty answer.
func (s *Service) applyPerson(ctx context.Context, r Repos, c Caller, src AuthSource, m DirectoryMapping,
	u *User, p *DirectoryPerson, roles []domain.Role) (*User, error) {
	dc := directoryCaller(c, src)
	now := s.now()
	units, err := r.Units.List(ctx)
	if err != nil {
		return nil, err
	}
	unitID := m.unit(units, p.Unit)
	name := Truncate(strings.TrimSpace(p.Name), 64)
	if name == "" {
		name = p.Username
	}
	if u == nil {
		if unitID == 0 {
			unitID = m.defaultUnit(units)
		}
		u = &User{Username: p.Username, Name: name, Roles: roles, UnitID: unitID, AuthSource: src, CreatedAt: now, UpdatedAt: now}
		if err := r.Users.Create(ctx, u); err != nil {
			return nil, err
		}
		err := r.Audit.Append(ctx, s.entry(dc, now, Record{Stream: audit.SystemStream, Action: ActionDirectoryCreate,
			ObjectType: "user", ObjectID: IDString(u.ID), Changes: map[string]any{"source": string(src), "subject": p.Subject,
				"username": u.Username, "name": u.Name, "roles": domain.RoleNames(roles), "unit_id": u.UnitID}}))
		if err != nil {
			return nil, err
		}
		return r.Users.Get(ctx, u.ID)
	}
	var recs []Record
	rec := func(action string, changes map[string]any) {
		changes["source"] = string(src)
		recs = append(recs, Record{Stream: audit.SystemStream, Action: action, ObjectType: "user", ObjectID: IDString(u.ID), Changes: changes})
	}
	if name != u.Name {
		rec(ActionDirectoryRename, map[string]any{"name": map[string]any{"from": u.Name, "to": name}})
		u.Name = name
	}
	for _, role := range roles {
		if !slices.Contains(u.Roles, role) {
			rec(ActionDirectoryRoleGain, map[string]any{"role": string(role)})
		}
	}
	for _, role := range u.Roles {
		if !slices.Contains(roles, role) {
			rec(ActionDirectoryRoleLose, map[string]any{"role": string(role)})
		}
	}
	u.Roles = roles
	if unitID != 0 && unitID != u.UnitID {
		rec(ActionDirectoryUnitMove, map[string]any{"unit_id": map[string]any{"from": u.UnitID, "to": unitID}})
		u.UnitID = unitID
	}
	if len(recs) == 0 {
		return u, nil
	}
	u.UpdatedAt = now
	if err := r.Users.Update(ctx, u); err != nil {
		return nil, err
	}
	for _, x := range recs {
		if err := r.Audit.Append(ctx, s.entry(dc, now, x)); err != nil {
			return nil, err
		}
	}
	return r.Users.Get(ctx, u.ID)
}

// endDirectoryUser disables a user the directory no longer knows, or knows
// as disabled, and ends their sessions, inside the caller's transaction. An
// admin enables them again once the directory has them back.
func (s *Service) endDirectoryUser(ctx context.Context, r Repos, c Caller, src AuthSource, u *User, why string) error {
	now := s.now()
	u.Disabled, u.UpdatedAt = true, now
	if err := r.Users.Update(ctx, u); err != nil {
		return err
	}
	if err := r.Sessions.RevokeUser(ctx, u.ID, now); err != nil {
		return err
	}
	return r.Audit.Append(ctx, s.entry(directoryCaller(c, src), now, Record{Stream: audit.SystemStream,
		Action: ActionDirectoryDisable, ObjectType: "user", ObjectID: IDString(u.ID),
		Changes: map[string]any{"source": string(src), "disabled": map[string]any{"from": false, "to": true}, "sessions": "revoked"},
		Reason:  why}))
}

// directoryLogin signs a person in with the directory's password. u is the
// user of that name, nil on a first sign-in. Refusals look like a wrong
// local password to the client and are counted for throttling alike.
func (s *Service) directoryLogin(ctx context.Context, c Caller, username, password string, u *User, rec Record) (*LoginResult, error) {
	rec.Changes = map[string]any{"source": string(AuthLDAP)}
	p, err := s.dir.Authenticate(ctx, username, password)
	why, gone := "", false
	var roles []domain.Role
	switch {
	case errors.Is(err, ErrDirectoryUnavailable):
		s.log.WarnContext(ctx, "directory sign-in failed: the directory does not answer", "username", username, "err", err)
		s.auditRefusal(ctx, c, rec, err)
		return nil, err
	case errors.Is(err, ErrDirectoryRefused):
		why = "wrong password (directory)"
	case errors.Is(err, ErrNotInDirectory):
		why, gone = "not in the directory", true
	case errors.Is(err, ErrDisabledInDirectory):
		why, gone = "disabled in the directory", true
	case err != nil:
		return nil, err
	default:
		if roles = s.dirSrc.Mapping.roles(p.Groups); len(roles) == 0 {
			why, gone = "in no directory group that maps to a role", true
		} else if u != nil && u.Disabled {
			why = "user disabled"
		}
	}
	if why != "" {
		return nil, s.refuseLogin(ctx, c, username, rec, why, func(r Repos) error {
			if gone && u != nil && !u.Disabled {
				return s.endDirectoryUser(ctx, r, c, AuthLDAP, u, why)
			}
			return nil
		})
	}
	p.Username = username
	return s.openSession(ctx, c, username, rec, func(r Repos) (*User, error) {
		return s.applyPerson(ctx, r, c, AuthLDAP, s.dirSrc.Mapping, u, p, roles)
	})
}

// refuseLogin records a refused sign-in (a failure counted for throttling
// and its audit entry) with whatever else must happen in that transaction.
func (s *Service) refuseLogin(ctx context.Context, c Caller, username string, rec Record, why string, also func(Repos) error) error {
	now := s.now()
	rec.Outcome, rec.Reason = audit.OutcomeRefused, why
	err := s.store.Tx(ctx, func(r Repos) error {
		if also != nil {
			if err := also(r); err != nil {
				return err
			}
		}
		if err := r.Sessions.RecordFailure(ctx, username, c.IP, now); err != nil {
			return err
		}
		return r.Audit.Append(ctx, s.entry(c, now, rec))
	})
	if err != nil {
		return err
	}
	return ErrBadCredentials
}

// openSession issues a token for the user that user returns inside the
// transaction, clears the username's failures and audits the sign-in.
func (s *Service) openSession(ctx context.Context, c Caller, username string, rec Record, user func(Repos) (*User, error)) (*LoginResult, error) {
	token, hash, err := newToken()
	if err != nil {
		return nil, err
	}
	var res *LoginResult
	err = s.store.Tx(ctx, func(r Repos) error {
		now := s.now()
		u, err := user(r)
		if err != nil {
			return err
		}
		res = &LoginResult{Token: token, ExpiresAt: now.Add(s.cfg.TokenTTL), User: u}
		if err := r.Sessions.Create(ctx, &Session{TokenHash: hash, UserID: u.ID, CreatedAt: now, ExpiresAt: res.ExpiresAt}); err != nil {
			return err
		}
		if err := r.Sessions.ClearFailures(ctx, username); err != nil {
			return err
		}
		c := c
		c.Actor = u.Actor()
		rec := rec
		rec.ObjectID = IDString(u.ID)
		return r.Audit.Append(ctx, s.entry(c, now, rec))
	})
	if err != nil {
		return nil, err
	}
	return res, nil
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

// SyncDirectory looks every enabled ldap user up in the directory: those
// removed, disabled or left in no mapped group are disabled and their
// sessions end; the others get the directory's name, roles and unit. An
// unreachable directory stops the pass (ErrDirectoryUnavailable) and changes
// nothing further. cmd/rectify runs it periodically on every instance; the
// one that gets the lease (holder, for lease) makes the pass.
func (s *Service) SyncDirectory(ctx context.Context, holder string, lease time.Duration) (DirectorySyncReport, error) {
	var rep DirectorySyncReport
	if s.dir == nil {
		return rep, nil
	}
	err := s.store.Tx(ctx, func(r Repos) error {
		now := s.now()
		var err error
		rep.Leader, err = r.Leases.Acquire(ctx, DirectorySyncLease, holder, now, now.Add(lease))
		return err
	})
	if err != nil || !rep.Leader {
		return rep, err
	}
	c := Caller{RequestID: "directory-sync"}
	var after int64
	for {
		users, err := s.store.Read().Users.List(ctx, UserQuery{AuthSource: AuthLDAP, AfterID: after, Limit: 200})
		if err != nil {
			return rep, err
		}
		for _, u := range users {
			after = u.ID
			if u.Disabled {
				continue
			}
			rep.Checked++
			p, err := s.dir.Lookup(ctx, u.Username)
			why := ""
			switch {
			case errors.Is(err, ErrNotInDirectory):
				why = "not in the directory"
			case errors.Is(err, ErrDisabledInDirectory):
				why = "disabled in the directory"
			case err != nil:
				return rep, fmt.Errorf("directory sync at %s: %w", u.Username, err)
			}
			var roles []domain.Role
			if why == "" {
				if roles = s.dirSrc.Mapping.roles(p.Groups); len(roles) == 0 {
					why = "in no directory group that maps to a role"
				}
			}
			disabled, updated := false, false
			err = s.store.Tx(ctx, func(r Repos) error {
				disabled, updated = false, false
				cur, err := r.Users.Get(ctx, u.ID) // as it is now, not as listed
				if err != nil || cur.Disabled || cur.AuthSource != AuthLDAP {
					return err
				}
				if why != "" {
					disabled = true
					return s.endDirectoryUser(ctx, r, c, AuthLDAP, cur, why)
				}
				before := *cur
				p.Username = cur.Username
				next, err := s.applyPerson(ctx, r, c, AuthLDAP, s.dirSrc.Mapping, cur, p, roles)
				updated = err == nil && (next.Name != before.Name || next.UnitID != before.UnitID || !slices.Equal(next.Roles, before.Roles))
				return err
			})
			if err != nil {
				return rep, err
			}
			if disabled {
				rep.Disabled++
			}
			if updated {
				rep.Updated++
			}
		}
		if len(users) < 200 {
			return rep, nil
		}
	}
}
