package access

import (
	"context"
	"errors"
	"fmt"
	"github.com/rectify-team/rectify/internal/app"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/rectify-team/rectify/internal/domain"
)

// Units lists the organisation tree, ordered so that parents come first.
func (s *Service) Units(ctx context.Context) ([]*app.Unit, error) {
	return s.store.Read().Units.List(ctx)
}

func validateUnit(in app.UnitInput) error {
	var v domain.Validator
	v.Text("name", strings.TrimSpace(in.Name), true, 100)
	v.Check(in.ParentID >= 0, "parent_id", "must be a unit id")
	return v.Err()
}

// checkParent verifies that parent exists and, when moving node id, is not inside its own subtree.
func checkParent(ctx context.Context, get func(context.Context, int64) (string, error), id, parentID int64, ownPath string) error {
	if parentID == 0 {
		return nil
	}
	path, err := get(ctx, parentID)
	if errors.Is(err, domain.ErrNotFound) {
		return domain.Invalid("parent_id", "no such parent: %d", parentID)
	}
	if err != nil {
		return err
	}
	if id > 0 && domain.InSubtree(path, ownPath) {
		return domain.Invalid("parent_id", "a node cannot move below itself")
	}
	return nil
}

func unitPath(r app.Repos) func(context.Context, int64) (string, error) {
	return func(ctx context.Context, id int64) (string, error) {
		u, err := r.Units.Get(ctx, id)
		if err != nil {
			return "", err
		}
		return u.Path, nil
	}
}

// CreateUnit adds a unit.
func (s *Service) CreateUnit(ctx context.Context, c app.Caller, in app.UnitInput) (*app.Unit, error) {
	var out *app.Unit
	err := s.core.Admin(ctx, c, app.Record{Action: app.ActionUnitCreate, ObjectType: "unit",
		Changes: map[string]any{"name": app.Truncate(in.Name, 200), "parent_id": in.ParentID}}, func(ctx context.Context, r app.Repos, now time.Time, rec *app.Record) error {
		if err := validateUnit(in); err != nil {
			return err
		}
		if err := checkParent(ctx, unitPath(r), 0, in.ParentID, ""); err != nil {
			return err
		}
		u := &app.Unit{Name: strings.TrimSpace(in.Name), ParentID: in.ParentID, CreatedAt: now, UpdatedAt: now}
		if err := r.Units.Create(ctx, u); err != nil {
			return uniqueAsConflict(err, "a unit named %q already exists under this parent", u.Name)
		}
		rec.ObjectID, rec.Changes = app.IDString(u.ID), map[string]any{"name": u.Name, "parent_id": u.ParentID}
		out, rec.Result = u, u
		return nil
	})
	return out, err
}

// UpdateUnit renames or moves a unit.
func (s *Service) UpdateUnit(ctx context.Context, c app.Caller, id int64, p app.UnitPatch) (*app.Unit, error) {
	var out *app.Unit
	err := s.core.Admin(ctx, c, app.Record{Action: app.ActionUnitUpdate, ObjectType: "unit", ObjectID: app.IDString(id)}, func(ctx context.Context, r app.Repos, now time.Time, rec *app.Record) error {
		rec.ObjectID = app.IDString(id)
		u, err := r.Units.Get(ctx, id)
		if err != nil {
			return err
		}
		in := app.UnitInput{Name: u.Name, ParentID: u.ParentID}
		app.Patch(&in.Name, p.Name)
		app.Patch(&in.ParentID, p.ParentID)
		if err := validateUnit(in); err != nil {
			return err
		}
		if err := checkParent(ctx, unitPath(r), id, in.ParentID, u.Path); err != nil {
			return err
		}
		d := map[string]any{}
		name := strings.TrimSpace(in.Name)
		app.DiffInto(d, "name", u.Name, name)
		app.DiffInto(d, "parent_id", u.ParentID, in.ParentID)
		u.Name, u.ParentID, u.UpdatedAt = name, in.ParentID, now
		if err := r.Units.Update(ctx, u); err != nil {
			return uniqueAsConflict(err, "a unit named %q already exists under this parent", u.Name)
		}
		rec.Changes = d
		out, err = r.Units.Get(ctx, id)
		return err
	})
	return out, err
}

func uniqueAsConflict(err error, format string, args ...any) error {
	if errors.Is(err, domain.ErrConflict) {
		return domain.Conflict(format, args...)
	}
	return err
}

// Categories lists the category tree.
func (s *Service) Categories(ctx context.Context) ([]*app.Category, error) {
	return s.store.Read().Categories.List(ctx)
}

var codePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$`)

func validateCategory(in app.CategoryInput) error {
	var v domain.Validator
	v.Check(codePattern.MatchString(in.Code), "code", "must be 1-32 letters, digits, '.', '_' or '-'")
	v.Text("name", strings.TrimSpace(in.Name), true, 100)
	return v.Err()
}

func categoryPath(r app.Repos) func(context.Context, int64) (string, error) {
	return func(ctx context.Context, id int64) (string, error) {
		c, err := r.Categories.Get(ctx, id)
		if err != nil {
			return "", err
		}
		return c.Path, nil
	}
}

// CreateCategory adds a category.
func (s *Service) CreateCategory(ctx context.Context, c app.Caller, in app.CategoryInput) (*app.Category, error) {
	var out *app.Category
	err := s.core.Admin(ctx, c, app.Record{Action: app.ActionCategoryCreate, ObjectType: "category",
		Changes: map[string]any{"code": app.Truncate(in.Code, 64), "name": app.Truncate(in.Name, 200), "parent_id": in.ParentID}}, func(ctx context.Context, r app.Repos, now time.Time, rec *app.Record) error {
		if err := validateCategory(in); err != nil {
			return err
		}
		if err := checkParent(ctx, categoryPath(r), 0, in.ParentID, ""); err != nil {
			return err
		}
		cat := &app.Category{Code: in.Code, Name: strings.TrimSpace(in.Name), ParentID: in.ParentID, CreatedAt: now, UpdatedAt: now}
		if err := r.Categories.Create(ctx, cat); err != nil {
			return uniqueAsConflict(err, "category code %q is taken", in.Code)
		}
		rec.ObjectID, rec.Changes = app.IDString(cat.ID), map[string]any{"code": cat.Code, "name": cat.Name, "parent_id": cat.ParentID}
		out, rec.Result = cat, cat
		return nil
	})
	return out, err
}

// UpdateCategory renames, recodes or moves a category.
func (s *Service) UpdateCategory(ctx context.Context, c app.Caller, id int64, p app.CategoryPatch) (*app.Category, error) {
	var out *app.Category
	err := s.core.Admin(ctx, c, app.Record{Action: app.ActionCategoryUpdate, ObjectType: "category", ObjectID: app.IDString(id)}, func(ctx context.Context, r app.Repos, now time.Time, rec *app.Record) error {
		rec.ObjectID = app.IDString(id)
		cat, err := r.Categories.Get(ctx, id)
		if err != nil {
			return err
		}
		in := app.CategoryInput{Code: cat.Code, Name: cat.Name, ParentID: cat.ParentID}
		app.Patch(&in.Code, p.Code)
		app.Patch(&in.Name, p.Name)
		app.Patch(&in.ParentID, p.ParentID)
		if err := validateCategory(in); err != nil {
			return err
		}
		if err := checkParent(ctx, categoryPath(r), id, in.ParentID, cat.Path); err != nil {
			return err
		}
		d := map[string]any{}
		name := strings.TrimSpace(in.Name)
		app.DiffInto(d, "code", cat.Code, in.Code)
		app.DiffInto(d, "name", cat.Name, name)
		app.DiffInto(d, "parent_id", cat.ParentID, in.ParentID)
		cat.Code, cat.Name, cat.ParentID, cat.UpdatedAt = in.Code, name, in.ParentID, now
		if err := r.Categories.Update(ctx, cat); err != nil {
			return uniqueAsConflict(err, "category code %q is taken", in.Code)
		}
		rec.Changes = d
		out, err = r.Categories.Get(ctx, id)
		return err
	})
	return out, err
}

// Users lists accounts. Any signed-in user may read them (to pick an assignee);
// password hashes never leave this layer.
func (s *Service) Users(ctx context.Context, q app.UserQuery) ([]*app.User, error) {
	return s.store.Read().Users.List(ctx, q)
}

// User returns one account.
func (s *Service) User(ctx context.Context, id int64) (*app.User, error) {
	return s.store.Read().Users.Get(ctx, id)
}

// parseAuthSource checks a source; "" is local.
func parseAuthSource(v *domain.Validator, s string) app.AuthSource {
	src := app.AuthSource(s)
	if src == "" {
		src = app.AuthLocal
	}
	v.Check(src.Valid(), "auth_source", "must be local, ldap or oidc")
	return src
}

var usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{2,63}$`)

// CreateUser adds an account.
func (s *Service) CreateUser(ctx context.Context, c app.Caller, in app.UserInput) (*app.User, error) {
	var out *app.User
	in.Username = app.NormalizeUsername(in.Username)
	err := s.core.Admin(ctx, c, app.Record{Action: app.ActionUserCreate, ObjectType: "user", ObjectID: in.Username}, func(ctx context.Context, r app.Repos, now time.Time, rec *app.Record) error {
		rec.ObjectID = in.Username
		var v domain.Validator
		v.Check(usernamePattern.MatchString(in.Username), "username", "must be 3-64 lower-case letters, digits, '.', '_' or '-'")
		v.Text("name", strings.TrimSpace(in.Name), true, 64)
		roles, rerr := domain.ParseRoles(in.Roles)
		if rerr != nil {
			v.Add("roles", "%s", strings.TrimPrefix(rerr.Error(), "invalid input: roles: "))
		}
		if _, err := r.Units.Get(ctx, in.UnitID); errors.Is(err, domain.ErrNotFound) {
			v.Add("unit_id", "no unit has id %d", in.UnitID)
		} else if err != nil {
			return err
		}
		src := parseAuthSource(&v, in.AuthSource)
		v.Check(src == app.AuthLocal || in.Password == "", "password", "is not used: the user signs in through %s", src)
		v.Check(src != app.AuthLocal || in.Password != "", "password", "is required for a local user")
		if err := v.Err(); err != nil {
			return err
		}
		hash := ""
		if src == app.AuthLocal {
			var err error
			if hash, err = s.HashPassword("password", in.Password, in.Username, roles); err != nil {
				return err
			}
		}
		u := &app.User{Username: in.Username, Name: strings.TrimSpace(in.Name), PasswordHash: hash, Roles: roles,
			UnitID: in.UnitID, AuthSource: src, CreatedAt: now, UpdatedAt: now}
		if err := r.Users.Create(ctx, u); err != nil {
			return err
		}
		rec.ObjectID = app.IDString(u.ID)
		rec.Changes = map[string]any{"username": u.Username, "name": u.Name, "roles": domain.RoleNames(roles), "unit_id": u.UnitID}
		if src != app.AuthLocal {
			rec.Changes["auth_source"] = string(src)
		}
		var err error
		out, err = r.Users.Get(ctx, u.ID)
		rec.Result = out
		return err
	})
	return out, err
}

// UpdateUser changes an account. Disabling revokes every session of the user.
func (s *Service) UpdateUser(ctx context.Context, c app.Caller, id int64, p app.UserPatch) (*app.User, error) {
	var out *app.User
	err := s.core.Admin(ctx, c, app.Record{Action: app.ActionUserUpdate, ObjectType: "user", ObjectID: app.IDString(id)}, func(ctx context.Context, r app.Repos, now time.Time, rec *app.Record) error {
		rec.ObjectID = app.IDString(id)
		u, err := r.Users.Get(ctx, id)
		if err != nil {
			return err
		}
		var v domain.Validator
		d := map[string]any{}
		if p.Name != nil {
			name := strings.TrimSpace(*p.Name)
			v.Text("name", name, true, 64)
			app.DiffInto(d, "name", u.Name, name)
			u.Name = name
		}
		if p.Roles != nil {
			roles, rerr := domain.ParseRoles(p.Roles)
			if rerr != nil {
				v.Add("roles", "%s", strings.TrimPrefix(rerr.Error(), "invalid input: roles: "))
			} else {
				if id == c.Actor.UserID && !slices.Contains(roles, domain.RoleAdmin) {
					v.Add("roles", "you cannot remove your own admin role")
				}
				app.DiffInto(d, "roles", strings.Join(domain.RoleNames(u.Roles), ","), strings.Join(domain.RoleNames(roles), ","))
				u.Roles = roles
			}
		}
		if p.UnitID != nil {
			if _, err := r.Units.Get(ctx, *p.UnitID); errors.Is(err, domain.ErrNotFound) {
				v.Add("unit_id", "no unit has id %d", *p.UnitID)
			} else if err != nil {
				return err
			}
			app.DiffInto(d, "unit_id", u.UnitID, *p.UnitID)
			u.UnitID = *p.UnitID
		}
		if p.Disabled != nil {
			v.Check(!*p.Disabled || id != c.Actor.UserID, "disabled", "you cannot disable yourself")
			app.DiffInto(d, "disabled", u.Disabled, *p.Disabled)
			u.Disabled = *p.Disabled
		}
		if p.AuthSource != nil {
			src := parseAuthSource(&v, *p.AuthSource)
			v.Check(src == app.AuthLocal || u.Username != firstAdmin, "auth_source",
				"the first admin always signs in locally, so that a broken directory locks nobody out")
			app.DiffInto(d, "auth_source", string(u.AuthSource), string(src))
			if src != app.AuthLocal {
				u.PasswordHash = ""
			}
			u.AuthSource = src
		}
		if err := v.Err(); err != nil {
			return err
		}
		u.UpdatedAt = now
		if err := r.Users.Update(ctx, u); err != nil {
			return err
		}
		if _, switched := d["auth_source"]; switched {
			if err := r.Sessions.RevokeUser(ctx, id, now); err != nil { // a token won another way ends with it
				return err
			}
		}
		if u.Disabled {
			if err := r.Sessions.RevokeUser(ctx, id, now); err != nil {
				return err
			}
		}
		rec.Changes = d
		out, err = r.Users.Get(ctx, id)
		return err
	})
	return out, err
}

// ResetPassword sets a new password and revokes every session of the user.
func (s *Service) ResetPassword(ctx context.Context, c app.Caller, id int64, password string) error {
	return s.core.Admin(ctx, c, app.Record{Action: app.ActionUserResetPassword, ObjectType: "user", ObjectID: app.IDString(id)}, func(ctx context.Context, r app.Repos, now time.Time, rec *app.Record) error {
		rec.ObjectID = app.IDString(id)
		u, err := r.Users.Get(ctx, id)
		if err != nil {
			return err
		}
		if u.PasswordHash, err = s.HashPassword("password", password, u.Username, u.Roles); err != nil {
			return err
		}
		u.UpdatedAt = now
		if err := r.Users.Update(ctx, u); err != nil {
			return err
		}
		if err := r.Sessions.RevokeUser(ctx, id, now); err != nil {
			return fmt.Errorf("revoke sessions: %w", err)
		}
		rec.Changes = map[string]any{"password": "reset", "sessions": "revoked"}
		return nil
	})
}
