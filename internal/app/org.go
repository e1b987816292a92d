package app

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/rectify-team/rectify/internal/domain"
)

// Units lists the organisation tree, ordered so that parents come first.
func (s *Service) Units(ctx context.Context) ([]*Unit, error) { return s.store.Read().Units.List(ctx) }

// UnitInput creates or changes a unit.
type UnitInput struct {
	Name     string
	ParentID int64
}

func validateUnit(in UnitInput) error {
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

func unitPath(r Repos) func(context.Context, int64) (string, error) {
	return func(ctx context.Context, id int64) (string, error) {
		u, err := r.Units.Get(ctx, id)
		if err != nil {
			return "", err
		}
		return u.Path, nil
	}
}

// CreateUnit adds a unit.
func (s *Service) CreateUnit(ctx context.Context, c Caller, in UnitInput) (*Unit, error) {
	var out *Unit
	err := s.admin(ctx, c, Record{Action: ActionUnitCreate, ObjectType: "unit",
		Changes: map[string]any{"name": Truncate(in.Name, 200), "parent_id": in.ParentID}}, func(r Repos, rec *Record) error {
		if err := validateUnit(in); err != nil {
			return err
		}
		if err := checkParent(ctx, unitPath(r), 0, in.ParentID, ""); err != nil {
			return err
		}
		now := s.now()
		u := &Unit{Name: strings.TrimSpace(in.Name), ParentID: in.ParentID, CreatedAt: now, UpdatedAt: now}
		if err := r.Units.Create(ctx, u); err != nil {
			return uniqueAsConflict(err, "a unit named %q already exists under this parent", u.Name)
		}
		rec.ObjectID, rec.Changes = IDString(u.ID), map[string]any{"name": u.Name, "parent_id": u.ParentID}
		out, rec.Result = u, u
		return nil
	})
	return out, err
}

// UnitPatch changes a unit; nil leaves a field as it is.
type UnitPatch struct {
	Name     *string
	ParentID *int64 // 0 makes it a root
}

// UpdateUnit renames or moves a unit.
func (s *Service) UpdateUnit(ctx context.Context, c Caller, id int64, p UnitPatch) (*Unit, error) {
	var out *Unit
	err := s.admin(ctx, c, Record{Action: ActionUnitUpdate, ObjectType: "unit", ObjectID: IDString(id)}, func(r Repos, rec *Record) error {
		rec.ObjectID = IDString(id)
		u, err := r.Units.Get(ctx, id)
		if err != nil {
			return err
		}
		in := UnitInput{Name: u.Name, ParentID: u.ParentID}
		set(&in.Name, p.Name)
		set(&in.ParentID, p.ParentID)
		if err := validateUnit(in); err != nil {
			return err
		}
		if err := checkParent(ctx, unitPath(r), id, in.ParentID, u.Path); err != nil {
			return err
		}
		d := map[string]any{}
		name := strings.TrimSpace(in.Name)
		DiffInto(d, "name", u.Name, name)
		DiffInto(d, "parent_id", u.ParentID, in.ParentID)
		u.Name, u.ParentID, u.UpdatedAt = name, in.ParentID, s.now()
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
func (s *Service) Categories(ctx context.Context) ([]*Category, error) {
	return s.store.Read().Categories.List(ctx)
}

// CategoryInput creates or changes a category.
type CategoryInput struct {
	Code     string
	Name     string
	ParentID int64
}

var codePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$`)

func validateCategory(in CategoryInput) error {
	var v domain.Validator
	v.Check(codePattern.MatchString(in.Code), "code", "must be 1-32 letters, digits, '.', '_' or '-'")
	v.Text("name", strings.TrimSpace(in.Name), true, 100)
	return v.Err()
}

func categoryPath(r Repos) func(context.Context, int64) (string, error) {
	return func(ctx context.Context, id int64) (string, error) {
		c, err := r.Categories.Get(ctx, id)
		if err != nil {
			return "", err
		}
		return c.Path, nil
	}
}

// CreateCategory adds a category.
func (s *Service) CreateCategory(ctx context.Context, c Caller, in CategoryInput) (*Category, error) {
	var out *Category
	err := s.admin(ctx, c, Record{Action: ActionCategoryCreate, ObjectType: "category",
		Changes: map[string]any{"code": Truncate(in.Code, 64), "name": Truncate(in.Name, 200), "parent_id": in.ParentID}}, func(r Repos, rec *Record) error {
		if err := validateCategory(in); err != nil {
			return err
		}
		if err := checkParent(ctx, categoryPath(r), 0, in.ParentID, ""); err != nil {
			return err
		}
		now := s.now()
		cat := &Category{Code: in.Code, Name: strings.TrimSpace(in.Name), ParentID: in.ParentID, CreatedAt: now, UpdatedAt: now}
		if err := r.Categories.Create(ctx, cat); err != nil {
			return uniqueAsConflict(err, "category code %q is taken", in.Code)
		}
		rec.ObjectID, rec.Changes = IDString(cat.ID), map[string]any{"code": cat.Code, "name": cat.Name, "parent_id": cat.ParentID}
		out, rec.Result = cat, cat
		return nil
	})
	return out, err
}

// CategoryPatch changes a category; nil leaves a field as it is.
type CategoryPatch struct {
	Code     *string
	Name     *string
	ParentID *int64
}

// UpdateCategory renames, recodes or moves a category.
func (s *Service) UpdateCategory(ctx context.Context, c Caller, id int64, p CategoryPatch) (*Category, error) {
	var out *Category
	err := s.admin(ctx, c, Record{Action: ActionCategoryUpdate, ObjectType: "category", ObjectID: IDString(id)}, func(r Repos, rec *Record) error {
		rec.ObjectID = IDString(id)
		cat, err := r.Categories.Get(ctx, id)
		if err != nil {
			return err
		}
		in := CategoryInput{Code: cat.Code, Name: cat.Name, ParentID: cat.ParentID}
		set(&in.Code, p.Code)
		set(&in.Name, p.Name)
		set(&in.ParentID, p.ParentID)
		if err := validateCategory(in); err != nil {
			return err
		}
		if err := checkParent(ctx, categoryPath(r), id, in.ParentID, cat.Path); err != nil {
			return err
		}
		d := map[string]any{}
		name := strings.TrimSpace(in.Name)
		DiffInto(d, "code", cat.Code, in.Code)
		DiffInto(d, "name", cat.Name, name)
		DiffInto(d, "parent_id", cat.ParentID, in.ParentID)
		cat.Code, cat.Name, cat.ParentID, cat.UpdatedAt = in.Code, name, in.ParentID, s.now()
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
func (s *Service) Users(ctx context.Context, q UserQuery) ([]*User, error) {
	return s.store.Read().Users.List(ctx, q)
}

// User returns one account.
func (s *Service) User(ctx context.Context, id int64) (*User, error) {
	return s.store.Read().Users.Get(ctx, id)
}

// UserInput creates an account.
type UserInput struct {
	Username string
	Name     string
	Password string
	Roles    []string
	UnitID   int64
	// AuthSource is how the user signs in: "" or local (with Password), ldap
	// or oidc (without one).
	AuthSource string
}

// parseAuthSource checks a source; "" is local.
func parseAuthSource(v *domain.Validator, s string) AuthSource {
	src := AuthSource(s)
	if src == "" {
		src = AuthLocal
	}
	v.Check(src.Valid(), "auth_source", "must be local, ldap or oidc")
	return src
}

var usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{2,63}$`)

// CreateUser adds an account.
func (s *Service) CreateUser(ctx context.Context, c Caller, in UserInput) (*User, error) {
	var out *User
	in.Username = NormalizeUsername(in.Username)
	err := s.admin(ctx, c, Record{Action: ActionUserCreate, ObjectType: "user", ObjectID: in.Username}, func(r Repos, rec *Record) error {
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
		v.Check(src == AuthLocal || in.Password == "", "password", "is not used: the user signs in through %s", src)
		v.Check(src != AuthLocal || in.Password != "", "password", "is required for a local user")
		if err := v.Err(); err != nil {
			return err
		}
		hash := ""
		if src == AuthLocal {
			var err error
			if hash, err = s.HashPassword("password", in.Password, in.Username, roles); err != nil {
				return err
			}
		}
		now := s.now()
		u := &User{Username: in.Username, Name: strings.TrimSpace(in.Name), PasswordHash: hash, Roles: roles,
			UnitID: in.UnitID, AuthSource: src, CreatedAt: now, UpdatedAt: now}
		if err := r.Users.Create(ctx, u); err != nil {
			return err
		}
		rec.ObjectID = IDString(u.ID)
		rec.Changes = map[string]any{"username": u.Username, "name": u.Name, "roles": domain.RoleNames(roles), "unit_id": u.UnitID}
		if src != AuthLocal {
			rec.Changes["auth_source"] = string(src)
		}
		var err error
		out, err = r.Users.Get(ctx, u.ID)
		rec.Result = out
		return err
	})
	return out, err
}

// UserPatch changes an account; nil leaves a field as it is.
type UserPatch struct {
	Name     *string
	Roles    []string // nil leaves the roles
	UnitID   *int64
	Disabled *bool
	// AuthSource switches how the user signs in. Leaving local forgets the
	// password; coming back to local needs a password reset.
	AuthSource *string
}

// UpdateUser changes an account. Disabling revokes every session of the user.
func (s *Service) UpdateUser(ctx context.Context, c Caller, id int64, p UserPatch) (*User, error) {
	var out *User
	err := s.admin(ctx, c, Record{Action: ActionUserUpdate, ObjectType: "user", ObjectID: IDString(id)}, func(r Repos, rec *Record) error {
		rec.ObjectID = IDString(id)
		u, err := r.Users.Get(ctx, id)
		if err != nil {
			return err
		}
		var v domain.Validator
		d := map[string]any{}
		if p.Name != nil {
			name := strings.TrimSpace(*p.Name)
			v.Text("name", name, true, 64)
			DiffInto(d, "name", u.Name, name)
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
				DiffInto(d, "roles", strings.Join(domain.RoleNames(u.Roles), ","), strings.Join(domain.RoleNames(roles), ","))
				u.Roles = roles
			}
		}
		if p.UnitID != nil {
			if _, err := r.Units.Get(ctx, *p.UnitID); errors.Is(err, domain.ErrNotFound) {
				v.Add("unit_id", "no unit has id %d", *p.UnitID)
			} else if err != nil {
				return err
			}
			DiffInto(d, "unit_id", u.UnitID, *p.UnitID)
			u.UnitID = *p.UnitID
		}
		if p.Disabled != nil {
			v.Check(!*p.Disabled || id != c.Actor.UserID, "disabled", "you cannot disable yourself")
			DiffInto(d, "disabled", u.Disabled, *p.Disabled)
			u.Disabled = *p.Disabled
		}
		if p.AuthSource != nil {
			src := parseAuthSource(&v, *p.AuthSource)
			v.Check(src == AuthLocal || u.Username != firstAdmin, "auth_source",
				"the first admin always signs in locally, so that a broken directory locks nobody out")
			DiffInto(d, "auth_source", string(u.AuthSource), string(src))
			if src != AuthLocal {
				u.PasswordHash = ""
			}
			u.AuthSource = src
		}
		if err := v.Err(); err != nil {
			return err
		}
		now := s.now()
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
func (s *Service) ResetPassword(ctx context.Context, c Caller, id int64, password string) error {
	return s.admin(ctx, c, Record{Action: ActionUserResetPassword, ObjectType: "user", ObjectID: IDString(id)}, func(r Repos, rec *Record) error {
		rec.ObjectID = IDString(id)
		u, err := r.Users.Get(ctx, id)
		if err != nil {
			return err
		}
		if u.PasswordHash, err = s.HashPassword("password", password, u.Username, u.Roles); err != nil {
			return err
		}
		now := s.now()
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
