package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
)

var (
	errNotFound = domain.ErrNotFound
	errConflict = domain.ErrConflict
)

type problemRow struct {
	ID             int64 `gorm:"primaryKey"`
	Code           string
	Title          string
	Description    string
	CategoryID     int64
	Severity       string
	Source         string
	UnitID         int64
	FoundAt        string
	Status         string
	Version        int64
	AssigneeID     *int64
	Deadline       *string
	Measures       string
	Percent        int
	ReworkCount    int
	ReopenCount    int
	ExtensionCount int
	ClosedOnTime   *bool
	SubmittedBy    *int64
	CreatedBy      int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
	AssignedAt     *time.Time
	SubmittedAt    *time.Time
	ClosedAt       *time.Time
	UnitPath       string `gorm:"->;-:migration"`
}

func toProblemRow(p *domain.Problem) problemRow {
	return problemRow{
		ID: p.ID, Code: p.Code, Title: p.Title, Description: p.Description, CategoryID: p.CategoryID,
		Severity: string(p.Severity), Source: string(p.Source), UnitID: p.UnitID, FoundAt: p.FoundAt.String(),
		Status: string(p.Status), Version: p.Version, AssigneeID: nullID(p.AssigneeID), Deadline: nullDate(p.Deadline),
		Measures: p.Measures, Percent: p.Percent, ReworkCount: p.ReworkCount, ReopenCount: p.ReopenCount,
		ExtensionCount: p.ExtensionCount, ClosedOnTime: p.ClosedOnTime, SubmittedBy: nullID(p.SubmittedBy),
		CreatedBy: p.CreatedBy, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, AssignedAt: p.AssignedAt,
		SubmittedAt: p.SubmittedAt, ClosedAt: p.ClosedAt,
	}
}

func (r problemRow) toDomain() (*domain.Problem, error) {
	found, err := domain.ParseDate(r.FoundAt)
	if err != nil {
		return nil, fmt.Errorf("problem %d: found_at: %w", r.ID, err)
	}
	var deadline domain.Date
	if r.Deadline != nil && *r.Deadline != "" {
		if deadline, err = domain.ParseDate(*r.Deadline); err != nil {
			return nil, fmt.Errorf("problem %d: deadline: %w", r.ID, err)
		}
	}
	return &domain.Problem{
		ID: r.ID, Code: r.Code, Title: r.Title, Description: r.Description, CategoryID: r.CategoryID,
		Severity: domain.Severity(r.Severity), Source: domain.Source(r.Source), UnitID: r.UnitID, UnitPath: r.UnitPath,
		FoundAt: found, Status: domain.Status(r.Status), Version: r.Version, AssigneeID: deref(r.AssigneeID),
		Deadline: deadline, Measures: r.Measures, Percent: r.Percent, ReworkCount: r.ReworkCount,
		ReopenCount: r.ReopenCount, ExtensionCount: r.ExtensionCount, ClosedOnTime: r.ClosedOnTime,
		SubmittedBy: deref(r.SubmittedBy), CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		AssignedAt: utcPtr(r.AssignedAt), SubmittedAt: utcPtr(r.SubmittedAt), ClosedAt: utcPtr(r.ClosedAt),
	}, nil
}

func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

func nullDate(d domain.Date) *string {
	if d.IsZero() {
		return nil
	}
	s := d.String()
	return &s
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

type problemRepo struct{ base }

const problemSelect = "p.*, u.path AS unit_path"

// query reads problems with their unit's path, without milestones, through
// gorm (the ledger's look-ups by code).
func (r problemRepo) query(ctx context.Context) *gorm.DB {
	return r.db(ctx).Table("problems p").Select(problemSelect).Joins("JOIN units u ON u.id = p.unit_id")
}

// Get reads one problem, its unit's path and its milestones in one
// statement; in a transaction, also its audit stream's head, so that an
// entry appended to that stream needs no read of its own.
func (r problemRepo) Get(ctx context.Context, id int64) (*domain.Problem, error) {
	var (
		ps   []*domain.Problem
		err  error
		seq  sql.NullInt64
		hash sql.NullString
	)
	if r.tx != nil {
		ps, err = r.problemsAnd(ctx, false, []any{&seq, &hash}, problemHeadSQL(r.base), id)
		if err == nil && len(ps) == 1 {
			r.tx.readHead(audit.ProblemStream(id), seq, hash)
		}
	} else {
		ps, err = r.problems(ctx, true, problemGetSQL, id)
	}
	if err != nil {
		return nil, fmt.Errorf("get problem %d: %w", id, err)
	}
	if len(ps) == 0 {
		return nil, fmt.Errorf("problem %d: %w", id, errNotFound)
	}
	return ps[0], nil
}

const (
	insertProblemSQL = "INSERT INTO problems (code, title, description, category_id, severity, source, unit_id, found_at, " +
		"status, version, assignee_id, deadline, measures, percent, rework_count, reopen_count, extension_count, " +
		"closed_on_time, submitted_by, created_by, created_at, updated_at, assigned_at, submitted_at, closed_at) " +
		"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	updateProblemSQL = "UPDATE problems SET title = ?, description = ?, category_id = ?, severity = ?, source = ?, " +
		"unit_id = ?, found_at = ?, status = ?, version = ?, assignee_id = ?, deadline = ?, measures = ?, percent = ?, " +
		"rework_count = ?, reopen_count = ?, extension_count = ?, closed_on_time = ?, submitted_by = ?, updated_at = ?, " +
		"assigned_at = ?, submitted_at = ?, closed_at = ?"
	updateProblemWhere = " WHERE id = ? AND version = ?"
)

// Create inserts p under the code it was given (DB.ProblemCode).
func (r problemRepo) Create(ctx context.Context, p *domain.Problem) error {
	w := toProblemRow(p)
	id, err := r.insertID(ctx, insertProblemSQL, w.Code, w.Title, w.Description, w.CategoryID, w.Severity, w.Source, w.UnitID,
		w.FoundAt, w.Status, w.Version, w.AssigneeID, w.Deadline, w.Measures, w.Percent, w.ReworkCount, w.ReopenCount,
		w.ExtensionCount, w.ClosedOnTime, w.SubmittedBy, w.CreatedBy, w.CreatedAt, w.UpdatedAt, w.AssignedAt, w.SubmittedAt, w.ClosedAt)
	if err != nil {
		if isDuplicate(err) { // the only unique key besides the id: the code
			var year int
			if _, serr := fmt.Sscanf(p.Code, "WT-%d-", &year); serr == nil && r.codes != nil {
				r.codes.drop(year)
			}
			return fmt.Errorf("insert problem %s: %w", p.Code, app.ErrCodeTaken)
		}
		return fmt.Errorf("insert problem: %w", err)
	}
	p.ID = id
	if r.tx != nil { // a new problem's stream has no head yet
		r.tx.readHead(audit.ProblemStream(p.ID), sql.NullInt64{}, sql.NullString{})
	}
	if hasLight(p) { // a registration has none, as the column says
		if err := r.relight(ctx, []int64{p.ID}); err != nil {
			return err
		}
	}
	return r.writeTerms(ctx, p.ID, textTerms(p.Title, p.Description, p.Code))
}

// Update writes p if its stored version is still expected. Its title and
// description must be the stored ones: the search's terms are not touched
// (Retext is the update that changes them).
func (r problemRepo) Update(ctx context.Context, p *domain.Problem, expected int64) error {
	return r.update(ctx, p, expected)
}

// Retext is Update for a change of the title or description from oldTitle
// and oldDescription, the texts of the version expected: the search's terms
// move with them in the same transaction.
func (r problemRepo) Retext(ctx context.Context, p *domain.Problem, expected int64, oldTitle, oldDescription string) error {
	if err := r.update(ctx, p, expected); err != nil {
		return err
	}
	return r.retextTerms(ctx, p.ID, textTerms(oldTitle, oldDescription, p.Code), textTerms(p.Title, p.Description, p.Code))
}

func (r problemRepo) update(ctx context.Context, p *domain.Problem, expected int64) error {
	w := toProblemRow(p)
	query, light := updateProblemSQL+", light = ?"+updateProblemWhere, []any{lightValue(p)}
	if lightOfDay(p) {
		d := p.Deadline.String()
		query, light = updateProblemSQL+", light = (SELECT "+lightOpenSQL("?", "?")+" FROM problem_lights s)"+updateProblemWhere, []any{d, d, p.ID}
	}
	args := append([]any{w.Title, w.Description, w.CategoryID, w.Severity, w.Source, w.UnitID, w.FoundAt,
		w.Status, w.Version, w.AssigneeID, w.Deadline, w.Measures, w.Percent, w.ReworkCount, w.ReopenCount, w.ExtensionCount,
		w.ClosedOnTime, w.SubmittedBy, w.UpdatedAt, w.AssignedAt, w.SubmittedAt, w.ClosedAt}, light...)
	n, err := r.exec(ctx, query, append(args, p.ID, expected)...)
	if err != nil {
		return fmt.Errorf("update problem %d: %w", p.ID, err)
	}
	if n != 1 {
		return fmt.Errorf("problem %d changed meanwhile (version %d is stale): %w", p.ID, expected, errConflict)
	}
	return nil
}

var openStatuses = []string{string(domain.StatusAssigned), string(domain.StatusRectifying), string(domain.StatusSubmitted)}

// List returns one page of problems, newest first, in two statements after
// the subtrees the filter names (listTrees): the page's ids by the plan
// below (planList), then those problems with their milestones. One
// statement, the id query joined as a derived table, saved 0.3–0.5 ms a full
// page on a million problems but cost an empty page (an owner's filter on
// another department) 0.2 ms more: MariaDB's fixed cost of the derived table.
func (r problemRepo) List(ctx context.Context, q app.ProblemQuery) ([]*domain.Problem, error) {
	trees, err := r.listTrees(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list problems: %w", err)
	}
	ids, err := r.pageIDs(ctx, q, trees)
	if err != nil {
		return nil, fmt.Errorf("list problems: %w", err)
	}
	if len(ids) == 0 {
		return []*domain.Problem{}, nil
	}
	ps, err := r.problems(ctx, false, problemsSQL, ids)
	if err != nil {
		return nil, fmt.Errorf("list problems: %w", err)
	}
	return ps, nil
}

// pageIDs runs the id query of a page of q, given its subtrees.
func (r problemRepo) pageIDs(ctx context.Context, q app.ProblemQuery, trees listTrees) ([]int64, error) {
	stmt, args := planList(q, trees, r.dialect).build(r.dialect)
	if stmt == "" {
		return nil, nil
	}
	var ids []int64
	if err := r.db(ctx).Raw(stmt, args...).Scan(&ids).Error; err != nil {
		return nil, err
	}
	return ids, nil
}

// isDuplicate reports a unique-key violation.
func isDuplicate(err error) bool { return errors.Is(err, gorm.ErrDuplicatedKey) }

// duplicateAsConflict turns a unique-key violation into a domain conflict.
func duplicateAsConflict(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case isDuplicate(err):
		return fmt.Errorf("%s: %w", what, domain.Conflict("a record with the same unique value exists"))
	}
	return fmt.Errorf("%s: %w", what, err)
}
