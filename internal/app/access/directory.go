package access

import (
	"context"
	"errors"
	"fmt"
	"github.com/rectify-team/rectify/internal/app"
	"slices"
	"strings"
	"time"

	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
)

// firstAdmin is the username Bootstrap gives the first admin.
const firstAdmin = "admin"

// Providers lists the configured ways in: local accounts always.
func (s *Service) Providers() []app.Provider {
	out := []app.Provider{{ID: app.AuthLocal, DisplayName: "Rectify"}}
	if s.dir != nil {
		out = append(out, app.Provider{ID: app.AuthLDAP, DisplayName: s.dirSrc.DisplayName})
	}
	if s.oidc != nil {
		out = append(out, app.Provider{ID: app.AuthOIDC, DisplayName: s.oidcSrc.DisplayName})
	}
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

func hasAncestorNamed(byID map[int64]*app.Unit, u *app.Unit, name string) bool {
	for p := byID[u.ParentID]; p != nil; p = byID[p.ParentID] {
		if p.Name == name {
			return true
		}
	}
	return false
}

// directoryCaller is the actor of directory-driven changes: the directory
// itself, from the request that made it look.
func directoryCaller(c app.Caller, src app.AuthSource) app.Caller {
	c.Actor = domain.Actor{Username: "directory:" + string(src)}
	c.Idempotency = nil
	return c
}

// applyPerson creates the user a directory person is, or brings an existing
// one up to date (name, roles, unit), appending an entry for each change,
// inside the caller's transaction. roles is the mapping's non-empty answer.
func (s *Service) applyPerson(ctx context.Context, r app.Repos, now time.Time, c app.Caller, src app.AuthSource, m app.DirectoryMapping,
	u *app.User, p *app.DirectoryPerson, roles []domain.Role) (*app.User, error) {
	dc := directoryCaller(c, src)
	units, err := r.Units.List(ctx)
	if err != nil {
		return nil, err
	}
	unitID := mappedUnit(m, units, p.Unit)
	name := app.Truncate(strings.TrimSpace(p.Name), 64)
	if name == "" {
		name = p.Username
	}
	if u == nil {
		if unitID == 0 {
			unitID = defaultUnit(m, units)
		}
		u = &app.User{Username: p.Username, Name: name, Roles: roles, UnitID: unitID, AuthSource: src, CreatedAt: now, UpdatedAt: now}
		if err := r.Users.Create(ctx, u); err != nil {
			return nil, err
		}
		err := r.Audit.Append(ctx, s.core.Entry(dc, now, app.Record{Stream: audit.SystemStream, Action: app.ActionDirectoryCreate,
			ObjectType: "user", ObjectID: app.IDString(u.ID), Changes: map[string]any{"source": string(src), "subject": p.Subject,
				"username": u.Username, "name": u.Name, "roles": domain.RoleNames(roles), "unit_id": u.UnitID}}))
		if err != nil {
			return nil, err
		}
		return r.Users.Get(ctx, u.ID)
	}
	var recs []app.Record
	rec := func(action string, changes map[string]any) {
		changes["source"] = string(src)
		recs = append(recs, app.Record{Stream: audit.SystemStream, Action: action, ObjectType: "user", ObjectID: app.IDString(u.ID), Changes: changes})
	}
	if name != u.Name {
		rec(app.ActionDirectoryRename, map[string]any{"name": map[string]any{"from": u.Name, "to": name}})
		u.Name = name
	}
	for _, role := range roles {
		if !slices.Contains(u.Roles, role) {
			rec(app.ActionDirectoryRoleGain, map[string]any{"role": string(role)})
		}
	}
	for _, role := range u.Roles {
		if !slices.Contains(roles, role) {
			rec(app.ActionDirectoryRoleLose, map[string]any{"role": string(role)})
		}
	}
	u.Roles = roles
	if unitID != 0 && unitID != u.UnitID {
		rec(app.ActionDirectoryUnitMove, map[string]any{"unit_id": map[string]any{"from": u.UnitID, "to": unitID}})
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
		if err := r.Audit.Append(ctx, s.core.Entry(dc, now, x)); err != nil {
			return nil, err
		}
	}
	return r.Users.Get(ctx, u.ID)
}

// endDirectoryUser disables a user the directory no longer knows, or knows
// as disabled, and ends their sessions, inside the caller's transaction. An
// admin enables them again once the directory has them back.
func (s *Service) endDirectoryUser(ctx context.Context, r app.Repos, now time.Time, c app.Caller, src app.AuthSource, u *app.User, why string) error {
	u.Disabled, u.UpdatedAt = true, now
	if err := r.Users.Update(ctx, u); err != nil {
		return err
	}
	if err := r.Sessions.RevokeUser(ctx, u.ID, now); err != nil {
		return err
	}
	return r.Audit.Append(ctx, s.core.Entry(directoryCaller(c, src), now, app.Record{Stream: audit.SystemStream,
		Action: app.ActionDirectoryDisable, ObjectType: "user", ObjectID: app.IDString(u.ID),
		Changes: map[string]any{"source": string(src), "disabled": map[string]any{"from": false, "to": true}, "sessions": "revoked"},
		Reason:  why}))
}

// directoryLogin signs a person in with the directory's password. u is the
// user of that name, nil on a first sign-in. Refusals look like a wrong
// local password to the client and are counted for throttling alike.
func (s *Service) directoryLogin(ctx context.Context, c app.Caller, username, password string, u *app.User, rec app.Record) (*app.LoginResult, error) {
	rec.Changes = map[string]any{"source": string(app.AuthLDAP)}
	p, err := s.dir.Authenticate(ctx, username, password)
	why, gone := "", false
	var roles []domain.Role
	switch {
	case errors.Is(err, app.ErrDirectoryUnavailable):
		s.log.WarnContext(ctx, "directory sign-in failed: the directory does not answer", "username", username, "err", err)
		s.core.AuditRefusal(ctx, c, rec, err)
		return nil, err
	case errors.Is(err, app.ErrDirectoryRefused):
		why = "wrong password (directory)"
	case errors.Is(err, app.ErrNotInDirectory):
		why, gone = "not in the directory", true
	case errors.Is(err, app.ErrDisabledInDirectory):
		why, gone = "disabled in the directory", true
	case err != nil:
		return nil, err
	default:
		if roles = mappedRoles(s.dirSrc.Mapping, p.Groups); len(roles) == 0 {
			why, gone = "in no directory group that maps to a role", true
		} else if u != nil && u.Disabled {
			why = "user disabled"
		}
	}
	if why != "" {
		return nil, s.refuseLogin(ctx, c, username, rec, why, func(ctx context.Context, r app.Repos, now time.Time) error {
			if gone && u != nil && !u.Disabled {
				return s.endDirectoryUser(ctx, r, now, c, app.AuthLDAP, u, why)
			}
			return nil
		})
	}
	p.Username = username
	return s.openSession(ctx, c, username, rec, func(ctx context.Context, r app.Repos, now time.Time) (*app.User, error) {
		return s.applyPerson(ctx, r, now, c, app.AuthLDAP, s.dirSrc.Mapping, u, p, roles)
	})
}

// refuseLogin records a refused sign-in (a failure counted for throttling
// and its audit entry) with whatever else must happen in that transaction.
func (s *Service) refuseLogin(ctx context.Context, c app.Caller, username string, rec app.Record, why string, also func(ctx context.Context, r app.Repos, now time.Time) error) error {
	rec.Outcome, rec.Reason = audit.OutcomeRefused, why
	err := s.core.Tx(ctx, func(ctx context.Context, r app.Repos, now time.Time) error {
		if also != nil {
			if err := also(ctx, r, now); err != nil {
				return err
			}
		}
		if err := r.Sessions.RecordFailure(ctx, username, c.IP, now); err != nil {
			return err
		}
		return r.Audit.Append(ctx, s.core.Entry(c, now, rec))
	})
	if err != nil {
		return err
	}
	return app.ErrBadCredentials
}

// openSession issues a token for the user that user returns inside the
// transaction, clears the username's failures and audits the sign-in.
func (s *Service) openSession(ctx context.Context, c app.Caller, username string, rec app.Record, user func(ctx context.Context, r app.Repos, now time.Time) (*app.User, error)) (*app.LoginResult, error) {
	token, hash, err := newToken()
	if err != nil {
		return nil, err
	}
	var res *app.LoginResult
	err = s.core.Tx(ctx, func(ctx context.Context, r app.Repos, now time.Time) error {
		u, err := user(ctx, r, now)
		if err != nil {
			return err
		}
		res = &app.LoginResult{Token: token, ExpiresAt: now.Add(s.cfg.TokenTTL), User: u}
		if err := r.Sessions.Create(ctx, &app.Session{TokenHash: hash, UserID: u.ID, CreatedAt: now, ExpiresAt: res.ExpiresAt}); err != nil {
			return err
		}
		if err := r.Sessions.ClearFailures(ctx, username); err != nil {
			return err
		}
		c := c
		c.Actor = u.Actor()
		rec := rec
		rec.ObjectID = app.IDString(u.ID)
		return r.Audit.Append(ctx, s.core.Entry(c, now, rec))
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// SyncDirectory looks every enabled ldap user up in the directory: those
// removed, disabled or left in no mapped group are disabled and their
// sessions end; the others get the directory's name, roles and unit. An
// unreachable directory stops the pass (ErrDirectoryUnavailable) and changes
// nothing further. cmd/rectify runs it periodically on every instance; the
// one that gets the lease (holder, for lease) makes the pass.
func (s *Service) SyncDirectory(ctx context.Context, holder string, lease time.Duration) (app.DirectorySyncReport, error) {
	var rep app.DirectorySyncReport
	if s.dir == nil {
		return rep, nil
	}
	err := s.core.Tx(ctx, func(ctx context.Context, r app.Repos, now time.Time) error {
		var err error
		rep.Leader, err = r.Leases.Acquire(ctx, app.DirectorySyncLease, holder, now, now.Add(lease))
		return err
	})
	if err != nil || !rep.Leader {
		return rep, err
	}
	c := app.Caller{RequestID: "directory-sync"}
	var after int64
	for {
		users, err := s.store.Read().Users.List(ctx, app.UserQuery{AuthSource: app.AuthLDAP, AfterID: after, Limit: 200})
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
			case errors.Is(err, app.ErrNotInDirectory):
				why = "not in the directory"
			case errors.Is(err, app.ErrDisabledInDirectory):
				why = "disabled in the directory"
			case err != nil:
				return rep, fmt.Errorf("directory sync at %s: %w", u.Username, err)
			}
			var roles []domain.Role
			if why == "" {
				if roles = mappedRoles(s.dirSrc.Mapping, p.Groups); len(roles) == 0 {
					why = "in no directory group that maps to a role"
				}
			}
			disabled, updated := false, false
			err = s.core.Tx(ctx, func(ctx context.Context, r app.Repos, now time.Time) error {
				disabled, updated = false, false
				cur, err := r.Users.Get(ctx, u.ID) // as it is now, not as listed
				if err != nil || cur.Disabled || cur.AuthSource != app.AuthLDAP {
					return err
				}
				if why != "" {
					disabled = true
					return s.endDirectoryUser(ctx, r, now, c, app.AuthLDAP, cur, why)
				}
				before := *cur
				p.Username = cur.Username
				next, err := s.applyPerson(ctx, r, now, c, app.AuthLDAP, s.dirSrc.Mapping, cur, p, roles)
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

// mappedRoles maps a person's groups to roles, sorted; none when no group is mapped.
func mappedRoles(m app.DirectoryMapping, groups []string) []domain.Role {
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

// mappedUnit finds the unit a person's unit names point at: the configured table
// first, then the units of that name, told apart by their parents' names.
// 0 when nothing matches.
func mappedUnit(m app.DirectoryMapping, units []*app.Unit, names []string) int64 {
	if len(names) == 0 {
		return 0
	}
	last := strings.TrimSpace(names[len(names)-1])
	if id, ok := m.UnitByValue[last]; ok {
		return id
	}
	byID := make(map[int64]*app.Unit, len(units))
	for _, u := range units {
		byID[u.ID] = u
	}
	var match []*app.Unit
	for _, u := range units {
		if u.Name == last {
			match = append(match, u)
		}
	}
	// Several units of that name: keep those whose ancestors carry the outer
	// names; an outer name no unit carries (ou=people) tells nothing.
	for i := len(names) - 2; i >= 0 && len(match) > 1; i-- {
		var keep []*app.Unit
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

// defaultUnit is where a person whose unit names match nothing goes.
func defaultUnit(m app.DirectoryMapping, units []*app.Unit) int64 {
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
