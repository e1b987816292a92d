package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
)

// Trees (units, categories) keep a materialised path "/1/4/9/" so that a
// subtree is one indexed prefix match on both databases.

type treeRow struct {
	ID        int64 `gorm:"primaryKey"`
	Code      string
	Name      string
	ParentID  *int64
	Path      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// createNode inserts a node under parentID (0 for a root) and sets its path.
func (b base) createNode(ctx context.Context, table string, row *treeRow, omit ...string) error {
	parentPath := "/"
	if row.ParentID != nil {
		if err := b.db(ctx).Table(table).Select("path").Where("id = ?", *row.ParentID).Take(&parentPath).Error; err != nil {
			return notFound(err, "parent")
		}
	}
	row.Path = ""
	if err := b.db(ctx).Table(table).Omit(omit...).Create(row).Error; err != nil {
		return duplicateAsConflict(err, "insert into "+table)
	}
	row.Path = parentPath + strconv.FormatInt(row.ID, 10) + "/"
	return b.db(ctx).Table(table).Where("id = ?", row.ID).Update("path", row.Path).Error
}

// moveNode re-roots the subtree at oldPath under newParentPath, rewriting
// every descendant's path in one statement.
func (b base) moveNode(ctx context.Context, table string, id int64, oldPath, newParentPath string) (string, error) {
	newPath := newParentPath + strconv.FormatInt(id, 10) + "/"
	if newPath == oldPath {
		return oldPath, nil
	}
	expr := b.concat("?", "SUBSTR(path, ?)")
	err := b.db(ctx).Exec("UPDATE "+table+" SET path = "+expr+" WHERE path LIKE ? ESCAPE '!'",
		newPath, len(oldPath)+1, likePrefix(oldPath)).Error
	if err != nil {
		return "", fmt.Errorf("move %s %d: %w", table, id, err)
	}
	return newPath, nil
}

func (b base) parentPath(ctx context.Context, table string, parentID int64) (string, error) {
	if parentID == 0 {
		return "/", nil
	}
	var path string
	if err := b.db(ctx).Table(table).Select("path").Where("id = ?", parentID).Take(&path).Error; err != nil {
		return "", notFound(err, "parent")
	}
	return path, nil
}

type unitRepo struct{ base }

func toUnit(r treeRow) *app.Unit {
	return &app.Unit{ID: r.ID, Name: r.Name, ParentID: deref(r.ParentID), Path: r.Path,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

func (r unitRepo) Get(ctx context.Context, id int64) (*app.Unit, error) {
	var row treeRow
	if err := r.db(ctx).Table("units").Omit("code").Select("id, name, parent_id, path, created_at, updated_at").
		Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, notFound(err, fmt.Sprintf("unit %d", id))
	}
	return toUnit(row), nil
}

// Place reads a unit's path and a category's existence in one statement:
// a registration's and an edit's check of the two.
func (r unitRepo) Place(ctx context.Context, unitID, categoryID int64) (string, bool, bool, error) {
	var row struct {
		Path     sql.NullString
		Category int64
	}
	if err := r.db(ctx).Raw("SELECT (SELECT path FROM units WHERE id = ?) AS path, (SELECT COUNT(*) FROM categories WHERE id = ?) AS category",
		unitID, categoryID).Scan(&row).Error; err != nil {
		return "", false, false, fmt.Errorf("unit %d and category %d: %w", unitID, categoryID, err)
	}
	return row.Path.String, row.Path.Valid, row.Category > 0, nil
}

func (r unitRepo) List(ctx context.Context) ([]*app.Unit, error) {
	var rows []treeRow
	if err := r.db(ctx).Table("units").Select("id, name, parent_id, path, created_at, updated_at").
		Order("path").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list units: %w", err)
	}
	out := make([]*app.Unit, len(rows))
	for i, row := range rows {
		out[i] = toUnit(row)
	}
	return out, nil
}

func (r unitRepo) Create(ctx context.Context, u *app.Unit) error {
	row := treeRow{Name: u.Name, ParentID: nullID(u.ParentID), CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
	if err := r.createNode(ctx, "units", &row, "Code"); err != nil {
		return err
	}
	u.ID, u.Path = row.ID, row.Path
	return nil
}

func (r unitRepo) Update(ctx context.Context, u *app.Unit) error {
	old, err := r.Get(ctx, u.ID)
	if err != nil {
		return err
	}
	if old.ParentID != u.ParentID {
		pp, err := r.parentPath(ctx, "units", u.ParentID)
		if err != nil {
			return err
		}
		if u.Path, err = r.moveNode(ctx, "units", u.ID, old.Path, pp); err != nil {
			return err
		}
	}
	err = r.db(ctx).Table("units").Where("id = ?", u.ID).Updates(map[string]any{
		"name": u.Name, "parent_id": nullID(u.ParentID), "updated_at": u.UpdatedAt}).Error
	if err != nil {
		return duplicateAsConflict(err, "update unit")
	}
	if old.ParentID != u.ParentID { // the users of the subtree resolve to new unit paths, and so to a new scope
		return r.authChanged(ctx)
	}
	return nil
}

type categoryRepo struct{ base }

func toCategory(r treeRow) *app.Category {
	return &app.Category{ID: r.ID, Code: r.Code, Name: r.Name, ParentID: deref(r.ParentID), Path: r.Path,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

func (r categoryRepo) Get(ctx context.Context, id int64) (*app.Category, error) {
	var row treeRow
	if err := r.db(ctx).Table("categories").Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, notFound(err, fmt.Sprintf("category %d", id))
	}
	return toCategory(row), nil
}

func (r categoryRepo) List(ctx context.Context) ([]*app.Category, error) {
	var rows []treeRow
	if err := r.db(ctx).Table("categories").Order("path").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list categories: %w", err)
	}
	out := make([]*app.Category, len(rows))
	for i, row := range rows {
		out[i] = toCategory(row)
	}
	return out, nil
}

func (r categoryRepo) Create(ctx context.Context, c *app.Category) error {
	row := treeRow{Code: c.Code, Name: c.Name, ParentID: nullID(c.ParentID), CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	if err := r.createNode(ctx, "categories", &row); err != nil {
		return err
	}
	c.ID, c.Path = row.ID, row.Path
	return nil
}

func (r categoryRepo) Update(ctx context.Context, c *app.Category) error {
	old, err := r.Get(ctx, c.ID)
	if err != nil {
		return err
	}
	if old.ParentID != c.ParentID {
		pp, err := r.parentPath(ctx, "categories", c.ParentID)
		if err != nil {
			return err
		}
		if c.Path, err = r.moveNode(ctx, "categories", c.ID, old.Path, pp); err != nil {
			return err
		}
	}
	err = r.db(ctx).Table("categories").Where("id = ?", c.ID).Updates(map[string]any{
		"code": c.Code, "name": c.Name, "parent_id": nullID(c.ParentID), "updated_at": c.UpdatedAt}).Error
	return duplicateAsConflict(err, "update category")
}

type userRow struct {
	ID           int64 `gorm:"primaryKey"`
	Username     string
	Name         string
	PasswordHash string
	Roles        string
	UnitID       int64
	Disabled     bool
	AuthSource   string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	UnitPath     string `gorm:"->;-:migration"`
}

func (r userRow) toApp() *app.User {
	var roles []domain.Role
	for _, n := range strings.Split(r.Roles, ",") {
		if n != "" {
			roles = append(roles, domain.Role(n))
		}
	}
	return &app.User{ID: r.ID, Username: r.Username, Name: r.Name, PasswordHash: r.PasswordHash, Roles: roles,
		UnitID: r.UnitID, UnitPath: r.UnitPath, Disabled: r.Disabled, AuthSource: authSource(r.AuthSource),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

// authSource reads the column; rows from before it existed are local.
func authSource(s string) app.AuthSource {
	if s == "" {
		return app.AuthLocal
	}
	return app.AuthSource(s)
}

func authSourceColumn(s app.AuthSource) string {
	if s == "" {
		return string(app.AuthLocal)
	}
	return string(s)
}

func joinRoles(rs []domain.Role) string { return strings.Join(domain.RoleNames(rs), ",") }

type userRepo struct{ base }

func (r userRepo) query(ctx context.Context) *gorm.DB {
	return r.db(ctx).Table("users s").Select("s.*, u.path AS unit_path").Joins("JOIN units u ON u.id = s.unit_id")
}

func (r userRepo) Get(ctx context.Context, id int64) (*app.User, error) {
	var row userRow
	if err := r.query(ctx).Where("s.id = ?", id).Take(&row).Error; err != nil {
		return nil, notFound(err, fmt.Sprintf("user %d", id))
	}
	return row.toApp(), nil
}

func (r userRepo) GetByUsername(ctx context.Context, username string) (*app.User, error) {
	var row userRow
	if err := r.query(ctx).Where("s.username = ?", username).Take(&row).Error; err != nil {
		return nil, notFound(err, "user "+username)
	}
	return row.toApp(), nil
}

func (r userRepo) Create(ctx context.Context, u *app.User) error {
	row := userRow{Username: u.Username, Name: u.Name, PasswordHash: u.PasswordHash, Roles: joinRoles(u.Roles),
		UnitID: u.UnitID, Disabled: u.Disabled, AuthSource: authSourceColumn(u.AuthSource), CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
	if err := r.db(ctx).Table("users").Omit("UnitPath").Create(&row).Error; err != nil {
		if isDuplicate(err) {
			return domain.Conflict("username %q is taken", u.Username)
		}
		return fmt.Errorf("insert user: %w", err)
	}
	u.ID = row.ID
	return nil
}

func (r userRepo) Update(ctx context.Context, u *app.User) error {
	err := r.db(ctx).Table("users").Where("id = ?", u.ID).Updates(map[string]any{
		"name": u.Name, "password_hash": u.PasswordHash, "roles": joinRoles(u.Roles), "unit_id": u.UnitID,
		"disabled": u.Disabled, "auth_source": authSourceColumn(u.AuthSource), "updated_at": u.UpdatedAt}).Error
	if err != nil {
		return err
	}
	return r.authChanged(ctx) // roles, unit, disabled: what the user's tokens resolve to
}

func (r userRepo) List(ctx context.Context, q app.UserQuery) ([]*app.User, error) {
	tx := r.query(ctx)
	if q.Role != "" {
		tx = tx.Where(r.concat(r.concat("','", "s.roles"), "','")+" LIKE ?", "%,"+string(q.Role)+",%")
	}
	if q.UnitPath != "" {
		tx = tx.Where("u.path LIKE ? ESCAPE '!'", likePrefix(q.UnitPath))
	}
	if q.Text != "" {
		like := likeContains(q.Text)
		tx = tx.Where("(s.username LIKE ? ESCAPE '!' OR s.name LIKE ? ESCAPE '!')", like, like)
	}
	if q.AuthSource != "" {
		tx = tx.Where("s.auth_source = ?", string(q.AuthSource))
	}
	if q.AfterID > 0 {
		tx = tx.Where("s.id > ?", q.AfterID)
	}
	var rows []userRow
	if err := tx.Order("s.id").Limit(q.Limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	out := make([]*app.User, len(rows))
	for i, row := range rows {
		out[i] = row.toApp()
	}
	return out, nil
}

func (r userRepo) Count(ctx context.Context) (int64, error) {
	var n int64
	err := r.db(ctx).Table("users").Count(&n).Error
	return n, err
}
